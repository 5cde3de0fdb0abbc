package dev.pgferry.backend;

/**
 * Opening a backend failed. When PostgreSQL itself refused, {@code serverError} is true and SQLSTATE and
 * message are the server's own, to be passed to the client as they are.
 */
public final class BackendException extends Exception {
    private final String sqlState;
    private final boolean serverError;

    public BackendException(String sqlState, String message, boolean serverError, Throwable cause) {
        super(message, cause, false, false);
        this.sqlState = sqlState;
        this.serverError = serverError;
    }

    public String sqlState() {
        return sqlState;
    }

    public boolean serverError() {
        return serverError;
    }
}
