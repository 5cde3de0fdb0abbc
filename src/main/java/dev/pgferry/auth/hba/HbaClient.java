package dev.pgferry.auth.hba;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * What a line is matched against: where the client connects from ({@code address} null on the Unix-domain socket),
 * whether it speaks TLS, and the database and user of its StartupMessage.
 */
public record HbaClient(InetAddress address, boolean tls, String database, String user) {

    public boolean local() {
        return address == null;
    }

    /**
     * PostgreSQL's FATAL for a {@code reject} line ({@code ClientAuthentication}, uaReject), in PostgreSQL 15's words.
     */
    public String rejectedMessage() {
        return "pg_hba.conf rejects connection for host \"" + host() + "\", user \"" + user + "\", database \""
                + database + "\", " + encryption();
    }

    /** PostgreSQL's FATAL when no line matches ({@code ClientAuthentication}, uaImplicitReject). */
    public String noEntryMessage() {
        return "no pg_hba.conf entry for host \"" + host() + "\", user \"" + user + "\", database \"" + database
                + "\", " + encryption();
    }

    private String encryption() {
        return tls ? "SSL encryption" : "no encryption";
    }

    /**
     * The host as PostgreSQL prints it ({@code getnameinfo} with NI_NUMERICHOST): {@code [local]} for the Unix
     * socket, dotted IPv4, IPv6 in its shortest form ({@code ::1}, not Java's {@code 0:0:0:0:0:0:0:1}).
     */
    String host() {
        if (address == null) {
            return "[local]";
        }
        if (!(address instanceof Inet6Address v6)) {
            return address.getHostAddress();
        }
        return ipv6(v6.getAddress()) + (v6.getScopeId() != 0 ? "%" + v6.getScopeId() : "");
    }

    /** RFC 5952 text, as glibc's inet_ntop writes it: lower-case hex, the longest run of two or more zero groups as ::,
     * an IPv4 tail dotted. */
    static String ipv6(byte[] a) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8;) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        if (bestLen < 2) {
            bestStart = -1;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == 6 && bestStart == 0
                    && (bestLen == 6 || (bestLen == 5 && g[5] == 0xffff))) {
                // glibc writes an IPv4-compatible or -mapped tail dotted (::1.2.3.4, ::ffff:1.2.3.4)
                if (s.charAt(s.length() - 1) != ':') {
                    s.append(':');
                }
                return s.append(a[12] & 0xff).append('.').append(a[13] & 0xff).append('.').append(a[14] & 0xff)
                        .append('.').append(a[15] & 0xff).toString();
            }
            if (i == bestStart) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (!s.isEmpty() && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(g[i]));
        }
        return s.toString();
    }
}
