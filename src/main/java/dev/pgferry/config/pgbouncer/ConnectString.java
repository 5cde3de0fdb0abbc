package dev.pgferry.config.pgbouncer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The value of a {@code [databases]} or {@code [users]} entry as PgBouncer's loader.c reads it ({@code cstr_get_pair}):
 * {@code key=value} pairs separated by spaces; a key runs to {@code =} or a space (space around {@code =} allowed);
 * a value runs to the next space, or is quoted in single quotes with {@code ''} for a quote. An empty value, a
 * missing {@code =} or an unterminated quote is a syntax error. A key given twice keeps its last value, as
 * PgBouncer's assignments do.
 */
public final class ConnectString {
    private ConnectString() {}

    /** The pairs in order; throws IllegalArgumentException on a syntax error. */
    public static Map<String, String> parse(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        int n = s.length();
        int p = skipSpace(s, 0);
        while (p < n) {
            int keyStart = p;
            while (p < n && s.charAt(p) != '=' && s.charAt(p) != ' ') {
                p++;
            }
            int keyEnd = p;
            p = skipSpace(s, p);
            if (p >= n || s.charAt(p) != '=' || keyEnd == keyStart) {
                throw new IllegalArgumentException("syntax error in connection string");
            }
            p = skipSpace(s, p + 1);
            StringBuilder value = new StringBuilder();
            if (p < n && s.charAt(p) == '\'') {
                p++;
                while (true) {
                    if (p >= n) {
                        throw new IllegalArgumentException("syntax error in connection string: unterminated quote");
                    }
                    char c = s.charAt(p);
                    if (c == '\'') {
                        if (p + 1 < n && s.charAt(p + 1) == '\'') {
                            p++;
                        } else {
                            p++;
                            break;
                        }
                    }
                    value.append(s.charAt(p++));
                }
            } else {
                while (p < n && s.charAt(p) != ' ') {
                    value.append(s.charAt(p++));
                }
            }
            if (p < n) {
                p++; // PgBouncer cuts the value at the character after it
            }
            if (value.isEmpty()) {
                throw new IllegalArgumentException("syntax error in connection string: empty value for " + s.substring(keyStart, keyEnd));
            }
            out.put(s.substring(keyStart, keyEnd), value.toString());
            p = skipSpace(s, p);
        }
        return out;
    }

    private static int skipSpace(String s, int p) {
        while (p < s.length() && IniParser.isSpace(s.charAt(p))) {
            p++;
        }
        return p;
    }
}
