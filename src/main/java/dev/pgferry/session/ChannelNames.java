package dev.pgferry.session;

import java.nio.charset.StandardCharsets;

/**
 * LISTEN/UNLISTEN channel names as PostgreSQL's scanner reads them ({@code ColId}): an unquoted word with ASCII
 * letters folded to lower case (downcase_identifier), or a {@code "quoted"} identifier with {@code ""} as one quote,
 * truncated to NAMEDATALEN - 1 bytes (truncate_identifier), never inside a UTF-8 character.
 */
final class ChannelNames {
    /** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes. */
    static final int MAX_IDENTIFIER = 63;

    private ChannelNames() {}

    /** The index of the quote closing the identifier opened at {@code open}; -1 if unterminated or empty. */
    static int quotedEnd(byte[] b, int open, int end) {
        int j = open + 1;
        while (j < end && b[j] != 0) {
            if (b[j] == '"') {
                if (j + 1 < end && b[j + 1] == '"') {
                    j += 2;
                    continue;
                }
                return j == open + 1 ? -1 : j;
            }
            j++;
        }
        return -1;
    }

    /** The quoted identifier between {@code open} and {@code close}, a doubled quote as one. */
    static String quoted(byte[] b, int open, int close) {
        byte[] name = new byte[close - open - 1];
        int n = 0;
        for (int j = open + 1; j < close; j++) {
            name[n++] = b[j];
            if (b[j] == '"') {
                j++; // the second quote of ""
            }
        }
        return truncated(name, n);
    }

    /** The unquoted word at {@code [from, to)}, ASCII letters folded to lower case. */
    static String folded(byte[] b, int from, int to) {
        byte[] name = new byte[to - from];
        for (int k = from; k < to; k++) {
            byte c = b[k];
            name[k - from] = c >= 'A' && c <= 'Z' ? (byte) (c | 0x20) : c;
        }
        return truncated(name, name.length);
    }

    private static String truncated(byte[] name, int len) {
        if (len > MAX_IDENTIFIER) {
            len = MAX_IDENTIFIER;
            while (len > 0 && (name[len] & 0xC0) == 0x80) {
                len--; // not inside a UTF-8 character (pg_mbcliplen)
            }
        }
        return new String(name, 0, len, StandardCharsets.UTF_8);
    }
}
