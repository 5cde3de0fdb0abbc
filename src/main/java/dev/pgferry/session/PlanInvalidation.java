package dev.pgferry.session;

import io.netty.buffer.ByteBuf;

/**
 * Which server errors at the Bind or Describe of a shared statement mean that the statement itself, not the
 * client's request, is no longer valid on that backend, so that the next Parse of its text must really prepare
 * it again. PostgreSQL re-plans a cached statement after a schema change but keeps its result type and parameter
 * types: {@code RevalidateCachedQuery} (plancache.c) fails with 0A000 "cached plan must not change result type"
 * after {@code ALTER TABLE … ADD COLUMN} under {@code SELECT *}, and a parameter type dropped and re-created
 * fails the Bind's type lookup with XX000 "cache lookup failed for type N". 26000 "prepared statement … does not
 * exist" means the server no longer has it (dropped behind pgferry's back). The SQLSTATE decides, not the message
 * text, which follows the server's lc_messages; an unrelated error with one of these codes costs one Parse.
 */
final class PlanInvalidation {
    private static final byte[][] CODES = {
        {'0', 'A', '0', '0', '0'}, // feature_not_supported: cached plan must not change result type
        {'X', 'X', '0', '0', '0'}, // internal_error: cache lookup failed for type/relation/function N
        {'2', '6', '0', '0', '0'}, // invalid_sql_statement_name: prepared statement does not exist
    };

    private PlanInvalidation() {}

    /** Whether the ErrorResponse frame at {@code [ri, end)} says the statement it concerns is stale or gone. */
    static boolean isStale(ByteBuf in, int ri, int end) {
        return marker(in, ri, end) != null;
    }

    /**
     * What the backend's cache should hold for the statement the ErrorResponse at {@code [ri, end)} concerns:
     * {@link SharedStatements#GONE} for 26000 (the server has no such statement), {@link SharedStatements#STALE} for
     * the other codes (the server keeps an outdated copy), null if the error says nothing of the statement.
     */
    static byte[] marker(ByteBuf in, int ri, int end) {
        int i = ri + 5;
        while (i < end) {
            byte field = in.getByte(i);
            if (field == 0) {
                return null;
            }
            int nul = in.indexOf(i + 1, end, (byte) 0);
            if (nul < 0) {
                return null;
            }
            if (field == 'C') {
                if (nul - i - 1 != 5 || !oneOf(in, i + 1)) {
                    return null;
                }
                return in.getByte(i + 1) == '2' ? SharedStatements.GONE : SharedStatements.STALE;
            }
            i = nul + 1;
        }
        return null;
    }

    private static boolean oneOf(ByteBuf in, int at) {
        for (byte[] code : CODES) {
            boolean same = true;
            for (int k = 0; k < 5 && same; k++) {
                same = in.getByte(at + k) == code[k];
            }
            if (same) {
                return true;
            }
        }
        return false;
    }
}
