package dev.pgferry.protocol;

/**
 * A violation of the wire protocol, carrying the SQLSTATE and message PostgreSQL would send for it.
 * Thrown by the pure parsing functions of this package; the session answers it with an ErrorResponse.
 */
public final class ProtocolException extends Exception {
    private final String sqlState;

    public ProtocolException(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
