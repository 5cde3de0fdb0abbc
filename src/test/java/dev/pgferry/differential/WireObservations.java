package dev.pgferry.differential;

import dev.pgferry.testing.RawWireClient.Msg;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Backend messages as observations: what a client could tell apart, without what legitimately differs per arm. */
final class WireObservations {
    private WireObservations() {}

    /**
     * The messages as observations; ParameterStatus goes into {@code reported} instead (its place among the other
     * messages is not something clients depend on, the value they last heard is), BackendKeyData is left out.
     */
    static List<String> describe(List<Msg> messages, Map<String, String> reported) {
        List<String> out = new ArrayList<>(messages.size());
        for (Msg m : messages) {
            if (m.type() == 'S') {
                String[] nv = cstrings(m.body(), 0, 2);
                reported.put(nv[0], nv[1]);
            } else if (m.type() != 'K') {
                out.add(describe(m));
            }
        }
        return out;
    }

    static String describe(Msg m) {
        byte[] b = m.body();
        return switch (m.type()) {
            case -1 -> "EOF";
            case 'E', 'N' -> (char) m.type() + "(" + m.field('V') + " " + m.field('C') + ")";
            case 'Z' -> "Z(" + (char) b[0] + ")";
            case 'C' -> "C(" + new String(b, 0, b.length - 1, StandardCharsets.UTF_8) + ")";
            case 'T' -> "T" + rowDescription(b);
            case 'D' -> "D" + dataRow(b);
            case 't' -> "t" + parameterDescription(b);
            default -> String.valueOf((char) m.type());
        };
    }

    /**
     * Column name, type OID, type modifier and format of each field. The table OID and column number are left out:
     * each arm has its own table, with its own OID.
     */
    static List<String> rowDescription(byte[] b) {
        int n = u16(b, 0);
        List<String> cols = new ArrayList<>(n);
        int at = 2;
        for (int i = 0; i < n; i++) {
            int end = at;
            while (b[end] != 0) {
                end++;
            }
            String name = new String(b, at, end - at, StandardCharsets.UTF_8);
            at = end + 1;
            int type = i32(b, at + 6);
            int typmod = i32(b, at + 12);
            int format = u16(b, at + 16);
            at += 18;
            cols.add(name + ":" + type + ":" + typmod + ":" + format);
        }
        return cols;
    }

    static List<String> dataRow(byte[] b) {
        int n = u16(b, 0);
        List<String> values = new ArrayList<>(n);
        int at = 2;
        for (int i = 0; i < n; i++) {
            int len = i32(b, at);
            at += 4;
            values.add(len < 0 ? null : new String(b, at, len, StandardCharsets.UTF_8));
            at += Math.max(len, 0);
        }
        return values;
    }

    static List<Integer> parameterDescription(byte[] b) {
        int n = u16(b, 0);
        List<Integer> oids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            oids.add(i32(b, 2 + 4 * i));
        }
        return oids;
    }

    private static String[] cstrings(byte[] b, int at, int n) {
        String[] s = new String[n];
        for (int i = 0; i < n; i++) {
            int end = at;
            while (end < b.length && b[end] != 0) {
                end++;
            }
            s[i] = new String(b, at, end - at, StandardCharsets.UTF_8);
            at = end + 1;
        }
        return s;
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    private static int i32(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }
}
