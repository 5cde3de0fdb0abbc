package dev.pgferry.session;

import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * A simple Query whose whole text is one {@code DEALLOCATE [PREPARE] name}, as drivers send it to drop a statement
 * they prepared at protocol level. In transaction pooling the client's statement lives on the server under a shared
 * name, so pgferry answers it itself ({@link StatementRouter#deallocate}); this class reads the name as PostgreSQL's
 * grammar does ({@code DeallocateStmt}: {@code name} is a {@code ColId}) and encodes the answer.
 * <p>
 * Anything it is not sure PostgreSQL reads the same way is left to the server: {@code ALL}, a reserved keyword, a
 * {@code U&"…"} identifier, a name of 64 bytes or more (PostgreSQL truncates it with a NOTICE), more than one
 * statement, an unterminated comment. A DEALLOCATE among other statements of one Query still gets the server's 26000:
 * answering it here would mean splitting the string, which changes its implicit transaction block and error handling.
 * The same text sent as an unnamed Parse/Bind/Execute (libpq's PQsendQueryParams: psycopg 3.1, and psycopg in
 * pipeline mode) is read here too; the server is made to answer that as PostgreSQL would
 * ({@link StatementRouter#bindUnnamed}).
 */
final class DeallocateQuery {
    /** PostgreSQL's NAMEDATALEN: identifiers of this many bytes or more are truncated. */
    private static final int NAMEDATALEN = 64;

    /**
     * Keywords that are not a {@code ColId} (reserved and type/function-name keywords of {@code pg_get_keywords()},
     * PostgreSQL 15, and {@code system_user} of 16): {@code DEALLOCATE select} is a syntax error there.
     */
    private static final Set<String> NOT_A_NAME = Set.of("all", "analyse", "analyze", "and", "any", "array", "as",
            "asc", "asymmetric", "both", "case", "cast", "check", "collate", "column", "constraint", "create",
            "current_catalog", "current_date", "current_role", "current_time", "current_timestamp", "current_user",
            "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for",
            "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into", "lateral", "leading",
            "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or", "order", "placing",
            "primary", "references", "returning", "select", "session_user", "some", "symmetric", "system_user",
            "table", "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where",
            "window", "with", "authorization", "binary", "collation", "concurrently", "cross", "current_schema",
            "freeze", "full", "ilike", "inner", "is", "isnull", "join", "left", "like", "natural", "notnull", "outer",
            "overlaps", "right", "similar", "tablesample", "verbose");

    private static final String KEYWORD = "deallocate";
    private static final String ABORTED = "current transaction is aborted, commands ignored until end of transaction block";

    private final ByteBuf in;
    private final int end;
    private int i;
    private boolean quoted;

    private DeallocateQuery(ByteBuf in, int from, int end) {
        this.in = in;
        this.i = from;
        this.end = end;
    }

    /**
     * The statement name the SQL text at {@code [from, end)} (a NUL ends it) deallocates, case-folded or unquoted as
     * PostgreSQL does; null if the text is not exactly one {@code DEALLOCATE [PREPARE] name}, with only blanks,
     * comments and semicolons around it. Allocates nothing for any other text.
     */
    static String statementName(ByteBuf in, int from, int end) {
        int i = skipBlanks(in, from, end);
        if (i < 0 || !startsWithKeyword(in, i, end)) {
            return null;
        }
        return new DeallocateQuery(in, i + KEYWORD.length(), end).parse();
    }

    static String statementName(String sql) {
        ByteBuf buf = Unpooled.wrappedBuffer(sql.getBytes(StandardCharsets.UTF_8));
        return statementName(buf, 0, buf.writerIndex());
    }

    /**
     * The answer to a DEALLOCATE pgferry carried out for the client, at transaction status {@code txStatus}: its
     * tag and ReadyForQuery; in a failed transaction PostgreSQL's 25P02 instead (nothing was deallocated).
     */
    static ByteBuf answer(ByteBufAllocator alloc, byte txStatus) {
        ByteBuf out = alloc.buffer(txStatus == 'E' ? 128 : 24);
        if (txStatus == 'E') {
            ServerMessages.errorResponse(out, "ERROR", SqlState.IN_FAILED_SQL_TRANSACTION, ABORTED);
        } else {
            ServerMessages.commandComplete(out, "DEALLOCATE");
        }
        ServerMessages.readyForQuery(out, txStatus);
        return out;
    }

    /** Whether the word at {@code i} is {@code DEALLOCATE}, in any case: compared in place, nothing allocated. */
    private static boolean startsWithKeyword(ByteBuf in, int i, int end) {
        if (end - i < KEYWORD.length()) {
            return false;
        }
        for (int k = 0; k < KEYWORD.length(); k++) {
            byte c = in.getByte(i + k);
            if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != KEYWORD.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private String parse() {
        if (!blanksAfter(i)) {
            return null; // DEALLOCATEx, DEALLOCATE"x" (which PostgreSQL reads, but it is left to the server)
        }
        String name = name();
        if (name != null && !quoted && name.equals("prepare") && i < end) {
            name = name(); // DEALLOCATE PREPARE name; a lone "prepare" (an unreserved keyword) is itself the name
        }
        return name != null && i == end ? name : null;
    }

    /** An unquoted word at {@code i}, lower-cased, and the blanks after it; null if none starts there. */
    private String word() {
        int s = i;
        byte c = s < end ? in.getByte(s) : 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c < 0)) {
            return null;
        }
        int j = s + 1;
        while (j < end) {
            c = in.getByte(j);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9') || c == '$'
                    || c < 0) {
                j++;
            } else {
                break;
            }
        }
        byte[] w = new byte[j - s];
        in.getBytes(s, w);
        for (int k = 0; k < w.length; k++) {
            if (w[k] >= 'A' && w[k] <= 'Z') {
                w[k] |= 0x20; // PostgreSQL folds ASCII letters only in a multibyte encoding (downcase_identifier)
            }
        }
        return blanksAfter(j) ? new String(w, StandardCharsets.UTF_8) : null;
    }

    /**
     * The identifier at {@code i} ({@link #quoted} tells how it was written), and the blanks after it; null if there
     * is none or PostgreSQL might read it otherwise.
     */
    private String name() {
        quoted = false;
        if (i < end && in.getByte(i) == '"') {
            java.io.ByteArrayOutputStream name = new java.io.ByteArrayOutputStream(16);
            int j = i + 1;
            while (true) {
                byte c = j < end ? in.getByte(j) : 0;
                if (c == 0) {
                    return null; // unterminated: the server's syntax error
                }
                if (c == '"' && (j + 1 >= end || in.getByte(j + 1) != '"')) {
                    break;
                }
                name.write(c);
                j += c == '"' ? 2 : 1; // "" inside quotes is one "
            }
            if (name.size() == 0 || name.size() >= NAMEDATALEN || !blanksAfter(j + 1)) {
                return null;
            }
            quoted = true;
            return name.toString(StandardCharsets.UTF_8);
        }
        String w = word(); // U&"x" is no name either: "u" runs into '&'
        if (w == null || NOT_A_NAME.contains(w)) {
            return null;
        }
        return w.getBytes(StandardCharsets.UTF_8).length >= NAMEDATALEN ? null : w;
    }

    /** Moves {@code i} past blanks, comments and semicolons from {@code j}; false if they do not end a token. */
    private boolean blanksAfter(int j) {
        int k = skipBlanks(in, j, end);
        if (k < 0) {
            return false;
        }
        if (k == j && k < end) {
            return false; // the token runs into something else: "x.y", "x(", "'a'"
        }
        i = k;
        return true;
    }

    /**
     * The index after the blanks (PostgreSQL's {@code space}: no vertical tab before 16), comments and semicolons
     * from {@code from}; {@code end} at the end of the text or its NUL; -1 for an unterminated comment.
     */
    private static int skipBlanks(ByteBuf in, int from, int end) {
        int i = from;
        while (i < end) {
            byte c = in.getByte(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';') {
                i++;
            } else if (c == 0) {
                return end;
            } else if (c == '-' && i + 1 < end && in.getByte(i + 1) == '-') {
                while (i < end && in.getByte(i) != '\n' && in.getByte(i) != 0) {
                    i++;
                }
            } else if (c == '/' && i + 1 < end && in.getByte(i + 1) == '*') {
                int depth = 0;
                do {
                    if (i + 1 >= end || in.getByte(i) == 0) {
                        return -1;
                    }
                    if (in.getByte(i) == '/' && in.getByte(i + 1) == '*') {
                        depth++;
                        i += 2;
                    } else if (in.getByte(i) == '*' && in.getByte(i + 1) == '/') {
                        depth--;
                        i += 2;
                    } else {
                        i++;
                    }
                } while (depth > 0);
            } else {
                return i;
            }
        }
        return i;
    }
}
