package dev.pgferry.pool;

/** Why a client got no backend; SQLSTATE and message are what the client receives. */
public final class PoolException extends Exception {
    private final String sqlState;
    private final boolean serverError;

    public PoolException(String sqlState, String message, boolean serverError) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.serverError = serverError;
    }

    public String sqlState() {
        return sqlState;
    }

    /** The server's own refusal (e.g. 3D000, 28P01), passed on verbatim. */
    public boolean serverError() {
        return serverError;
    }
}
