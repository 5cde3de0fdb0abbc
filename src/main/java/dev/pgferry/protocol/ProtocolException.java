package dev.pgferry.protocol;

/**
 * A violation of the wire protocol, carrying the SQLSTATE and message PostgreSQL would send for it.
 * Thrown by the pure parsing functions of this package; the session answers it with an ErrorResponse.
 */
public final class ProtocolException extends Exception {
    private final String sqlState;
    private final String detail;

    public ProtocolException(String sqlState, String message) {
        this(sqlState, message, null);
    }

    /** With PostgreSQL's DETAIL line for the same error ({@code null} for none). */
    public ProtocolException(String sqlState, String message, String detail) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.detail = detail;
    }

    public String sqlState() {
        return sqlState;
    }

    /** The DETAIL field of the ErrorResponse, or null. */
    public String detail() {
        return detail;
    }
}
