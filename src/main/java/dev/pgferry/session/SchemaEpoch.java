package dev.pgferry.session;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The generation of shared statements that a new Parse joins. PostgreSQL analyses a statement at its Parse: a client
 * that prepares a text after {@code ALTER TABLE} gets the new row shape, and one that prepared it before keeps the old
 * one and fails at its next Bind with 0A000 "cached plan must not change result type" ({@code RevalidateCachedQuery},
 * plancache.c). A shared server-side copy stands for every client statement of its generation only: the server name
 * carries the epoch at the client's Parse ({@link #serverName}), so a Parse after a schema change never meets a copy
 * prepared before it (which would fail where PostgreSQL prepares afresh), and a statement prepared before it never
 * binds a copy prepared after it (which would give rows of a shape the client did not describe).
 * <p>
 * The epoch moves on when a schema change is seen: the CommandComplete of a DDL command ({@code ALTER …},
 * {@code CREATE …}, {@code DROP …}) relayed by any session, and a server's verdict that a shared copy is stale
 * ({@link PlanInvalidation}), which also covers DDL run past pgferry. One counter for the process: DDL is rare, and a
 * needless move costs one Parse per text and backend.
 */
final class SchemaEpoch {
    private static final byte[][] DDL_TAGS = {
        {'A', 'L', 'T', 'E', 'R', ' '}, {'C', 'R', 'E', 'A', 'T', 'E', ' '}, {'D', 'R', 'O', 'P', ' '},
    };

    private final AtomicLong epoch = new AtomicLong();

    long current() {
        return epoch.get();
    }

    void advance() {
        epoch.incrementAndGet();
    }

    /** The server name of a text's copy in generation {@code epoch}: {@code base} in the first, then suffixed. */
    static String serverName(String base, long epoch) {
        return epoch == 0 ? base : base + "_g" + Long.toHexString(epoch);
    }

    /** A CommandComplete at {@code [ri, end)}: advances the epoch if its tag is that of a schema change. */
    void commandComplete(ByteBuf in, int ri, int end) {
        if (isSchemaChange(in, ri, end)) {
            advance();
        }
    }

    static boolean isSchemaChange(ByteBuf in, int ri, int end) {
        byte first = end - ri > 5 ? in.getByte(ri + 5) : 0;
        if (first != 'A' && first != 'C' && first != 'D') {
            return false;
        }
        for (byte[] tag : DDL_TAGS) {
            if (end - ri - 5 > tag.length && startsWith(in, ri + 5, tag)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the SQL text at {@code [from, end)} (a Query or a Parse's) starts with {@code ALTER}, {@code CREATE} or
     * {@code DROP}: seen before the server runs it, so that a Parse pipelined behind it joins the new generation.
     */
    static boolean isSchemaChangeText(ByteBuf in, int from, int end) {
        int i = from;
        while (i < end) {
            byte b = in.getByte(i);
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t' && b != '(') {
                break;
            }
            i++;
        }
        for (byte[] tag : DDL_TAGS) {
            int n = tag.length - 1; // the keyword without its space
            if (end - i > n && isWordEnd(in.getByte(i + n))) {
                boolean same = true;
                for (int k = 0; k < n && same; k++) {
                    same = (in.getByte(i + k) & ~0x20) == tag[k];
                }
                if (same) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isWordEnd(byte b) {
        return !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b < 0);
    }

    private static boolean startsWith(ByteBuf in, int at, byte[] tag) {
        for (int k = 0; k < tag.length; k++) {
            if (in.getByte(at + k) != tag[k]) {
                return false;
            }
        }
        return true;
    }
}
