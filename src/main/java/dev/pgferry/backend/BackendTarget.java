package dev.pgferry.backend;

/**
 * Where a pool's backends live and which database they open. A {@code host} starting with {@code /} is the
 * directory of the server's Unix-domain socket, as in libpq.
 */
public record BackendTarget(String host, int port, String database) {
    public boolean unixSocket() {
        return host.startsWith("/");
    }

    /** {@code host:port}, or the socket file's path ({@code dir/.s.PGSQL.port}) for a Unix socket. */
    public String address() {
        return unixSocket() ? host + (host.endsWith("/") ? "" : "/") + ".s.PGSQL." + port : host + ":" + port;
    }
}
