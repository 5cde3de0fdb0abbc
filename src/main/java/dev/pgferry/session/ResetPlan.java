package dev.pgferry.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The rewrite of one Query by {@link ResetToStartup}, and where its answer stands: kept as the Query's
 * {@link ResponseQueue} entry.
 */
final class ResetPlan {
    /** The query text to send, without its NUL; null to send the client's as it is. */
    final byte[] text;
    /**
     * A lone {@code DISCARD ALL}: the server reports (ParameterStatus) its own defaults of the startup parameters,
     * which the fixup after it sets back. Those reports are held back, and the fixup's own tell the client what
     * changed, as PostgreSQL reports only the value a parameter ends with.
     */
    final boolean holdsStartupReports;
    /** Ordinals (from 0) of the client's statements each insertion follows, ascending. */
    private final int[] after;
    /** Where each insertion begins in {@link #text}, in characters. */
    private final int[] at;
    /** Each insertion's length in characters. */
    private final int[] len;
    /** Each insertion's number of statements. */
    private final int[] count;
    private int completed;
    private int next;
    /** Statements of pgferry's still to answer. */
    private int inserted;

    ResetPlan(byte[] text, int[] after, int[] at, int[] len, int[] count) {
        this.text = text;
        this.holdsStartupReports = text == null;
        this.after = after;
        this.at = at;
        this.len = len;
        this.count = count;
    }

    /**
     * A message of the Query's answer: whether it is an answer to pgferry's inserted statement, to be swallowed.
     * Each statement of a query string ends with one CommandComplete, or an error that ends the string.
     */
    boolean swallow(byte type) {
        if (inserted > 0) {
            if (type == 'C') {
                inserted--;
                return true;
            }
            if (type == 'E') {
                inserted = 0; // the rest of the string does not run
            }
            return false;
        }
        if (type == 'C') {
            if (next < after.length && after[next] == completed) {
                inserted = count[next];
                next++;
            }
            completed++;
        }
        return false;
    }

    /**
     * Whether a ParameterStatus now is held back ({@link #holdsStartupReports}): only once the DISCARD ALL completed.
     * One that fails (inside a transaction block) aborts the transaction, whose reverted values are reported as on
     * PostgreSQL, with no fixup after.
     */
    boolean holdsReportNow() {
        return holdsStartupReports && completed > 0;
    }

    /** The 1-based character position {@code p} in {@link #text} as a position in the client's own text. */
    int clientPosition(int p) {
        int c = p - 1;
        int shift = 0;
        for (int k = 0; k < at.length; k++) {
            if (c >= at[k] + len[k]) {
                shift += len[k];
            } else if (c >= at[k]) {
                return at[k] - shift + 1; // inside pgferry's statement: the end of the client's before it
            }
        }
        return p - shift;
    }

    /**
     * The ErrorResponse at {@code [ri, end)} with its position field ('P') moved back to the client's text, or
     * null if it has none after an insertion.
     */
    ByteBuf errorWithClientPosition(ByteBufAllocator alloc, ByteBuf in, int ri, int end) {
        int i = ri + 5;
        while (i < end && in.getByte(i) != 0) {
            int nul = in.indexOf(i + 1, end, (byte) 0);
            if (nul < 0) {
                return null;
            }
            if (in.getByte(i) == 'P') {
                int p;
                try {
                    p = Integer.parseInt(in.toString(i + 1, nul - i - 1, StandardCharsets.US_ASCII));
                } catch (NumberFormatException e) {
                    return null;
                }
                int q = clientPosition(p);
                if (q == p) {
                    return null;
                }
                byte[] value = Integer.toString(q).getBytes(StandardCharsets.US_ASCII);
                ByteBuf out = alloc.buffer(end - ri + value.length);
                out.writeBytes(in, ri, i + 1 - ri);
                out.writeBytes(value);
                out.writeBytes(in, nul, end - nul);
                out.setInt(1, out.writerIndex() - 1);
                return out;
            }
            i = nul + 1;
        }
        return null;
    }
}

/** A statement found to return parameters to their defaults: where its ';' is, and what pgferry adds after it. */
