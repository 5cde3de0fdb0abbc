package dev.pgferry.cli;

import dev.pgferry.config.pgbouncer.IniException;
import dev.pgferry.config.pgbouncer.PgBouncerIniConfigSourceFactory;
import dev.pgferry.server.ListenException;
import io.quarkus.runtime.LaunchMode;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/** What a failed start tells the operator: one line where the cause is theirs to fix, a stack trace otherwise. */
final class StartupFailure {
    /** Quarkus's wrapping of a failure to bind its HTTP server (VertxHttpRecorder). */
    static final String HTTP_START = "Unable to start HTTP server";

    private StartupFailure() {}

    /**
     * {@code ""} when the failure was logged where it happened (a {@link ListenException}), a line naming the HTTP
     * address, port and key when Quarkus's HTTP server could not bind, the refusal with its file and line when
     * pgferry.pgbouncer-ini names a file pgferry will not start from ({@link IniException}), and null for anything
     * else (a bug, or a configuration error with its own stack of causes: log it whole).
     */
    static String describe(Throwable failure) {
        boolean http = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ListenException) {
                return "";
            }
            if (t instanceof IniException) {
                return "pgferry cannot start from " + PgBouncerIniConfigSourceFactory.PROPERTY + ": " + t.getMessage();
            }
            http |= HTTP_START.equals(t.getMessage());
            if (http && t.getCause() == null && isBindFailure(t)) {
                return httpLine(t);
            }
        }
        return null;
    }

    /** A bind failure as the JDK ({@link java.net.BindException}) or Netty's native transport (errno text) words it. */
    static boolean isBindFailure(Throwable t) {
        String m = String.valueOf(t.getMessage());
        return t instanceof java.net.BindException || m.startsWith("bind(") || m.contains("Address already in use");
    }

    private static String httpLine(Throwable root) {
        String portKey = LaunchMode.current() == LaunchMode.TEST ? "quarkus.http.test-port" : "quarkus.http.port";
        String host = value("quarkus.http.host").orElse("0.0.0.0");
        String port = value(portKey).orElse("?");
        String reason = ListenException.reason(root);
        return "pgferry cannot serve HTTP (health checks, metrics) on " + host + ":" + port + ": " + reason
                + " (set " + portKey + " to another port, or quarkus.http.host)";
    }

    private static Optional<String> value(String key) {
        try {
            Config config = ConfigProvider.getConfig();
            return config.getOptionalValue(key, String.class);
        } catch (RuntimeException e) {
            return Optional.empty(); // the configuration may be gone with the application
        }
    }
}
