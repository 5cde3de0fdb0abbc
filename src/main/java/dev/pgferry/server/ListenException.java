package dev.pgferry.server;

/**
 * pgferry could not bind one of its listeners (the address is taken, cannot be assigned, or needs privileges). Its
 * message is the whole story in one line: the address, the port or socket, the operating system's reason and the
 * configuration key that moves it. Startup logs it at ERROR once, without a stack trace, and exits non-zero; a
 * taken port is an operator's everyday mistake, not a bug.
 */
public final class ListenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ListenException(String message, Throwable cause) {
        super(message, cause, false, false);
    }

    /** The failure to bind {@code host:port} for PostgreSQL clients. */
    static ListenException tcp(String host, int port, Throwable cause) {
        String reason = reason(cause);
        String hint = inUse(cause) ? "is another server (PgBouncer?) using port " + port
                + "? set pgferry.listen-port to another port"
                : "check pgferry.listen-host and pgferry.listen-port";
        return new ListenException("pgferry cannot listen on " + host + ":" + port + ": " + reason + " (" + hint + ")",
                cause);
    }

    /** The failure to bind the Unix-domain socket {@code socket}. */
    static ListenException unix(java.nio.file.Path socket, Throwable cause) {
        String reason = reason(cause);
        // UnixSocketFile's own refusals already name the keys
        String hint = reason.contains("pgferry.") ? "" : " (set by pgferry.unix-socket-dir and pgferry.listen-port)";
        return new ListenException("pgferry cannot listen on Unix socket " + socket + ": " + reason + hint, cause);
    }

    /**
     * The operating system's words without the transport's wrapping: Netty's native transport says
     * {@code bind(..) failed with error(-98): Address already in use}, the JDK's {@code Address already in use}.
     */
    public static String reason(Throwable cause) {
        String m = String.valueOf(cause.getMessage());
        int errno = m.indexOf("): ");
        return m.startsWith("bind(") && errno > 0 ? m.substring(errno + 3) : m;
    }

    /** EADDRINUSE, as the native and the JDK transports report it. */
    static boolean inUse(Throwable cause) {
        return cause instanceof java.net.BindException || String.valueOf(cause.getMessage()).contains("Address already in use");
    }
}
