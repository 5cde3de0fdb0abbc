package dev.pgferry.config.pgbouncer;

import java.time.Duration;

/** PgBouncer's value parsers: libusual's cf_set_int (strtol, base 0), cf_set_time_usec (seconds) and C's atoi. */
final class CNumbers {
    private CNumbers() {}

    /**
     * cf_set_int: {@code strtol(value, &end, 0)} with the whole value consumed, so {@code 0x10} is 16 and {@code 0777}
     * octal (PgBouncer's unix_socket_mode); throws NumberFormatException otherwise.
     */
    static long strtol(String value) {
        String s = value.stripLeading();
        boolean negative = false;
        if (s.startsWith("-") || s.startsWith("+")) {
            negative = s.startsWith("-");
            s = s.substring(1);
        }
        int radix = 10;
        if (s.startsWith("0x") || s.startsWith("0X")) {
            radix = 16;
            s = s.substring(2);
        } else if (s.length() > 1 && s.startsWith("0")) {
            radix = 8;
            s = s.substring(1);
        }
        if (s.isEmpty() || s.startsWith("-") || s.startsWith("+")) {
            throw new NumberFormatException(value);
        }
        long v = Long.parseLong(s, radix);
        return negative ? -v : v;
    }

    /** C's atoi: leading space, a sign, digits up to the first non-digit; 0 when there are none. */
    static int atoi(String value) {
        int p = 0;
        int n = value.length();
        while (p < n && IniParser.isSpace(value.charAt(p))) {
            p++;
        }
        boolean negative = false;
        if (p < n && (value.charAt(p) == '-' || value.charAt(p) == '+')) {
            negative = value.charAt(p) == '-';
            p++;
        }
        long v = 0;
        while (p < n && Character.isDigit(value.charAt(p)) && value.charAt(p) < 128 && v < Integer.MAX_VALUE) {
            v = v * 10 + (value.charAt(p++) - '0');
        }
        return (int) Math.min(Integer.MAX_VALUE, negative ? -v : v);
    }

    /**
     * cf_set_time_usec: a non-negative number of seconds, fractions allowed ({@code 0.5}, {@code 1e3}); PgBouncer has
     * no unit suffixes, so {@code 10s} is an error there and here.
     */
    static Duration seconds(String value) {
        if (!value.matches("[+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?")) {
            throw new NumberFormatException("not a number of seconds: " + value);
        }
        double v = Double.parseDouble(value);
        return Duration.ofNanos(Math.round(v * 1_000_000) * 1000);
    }
}
