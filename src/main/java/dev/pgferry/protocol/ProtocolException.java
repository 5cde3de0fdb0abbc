package dev.pgferry.protocol;

/**
 * A violation of the wire protocol, carrying the SQLSTATE and message PostgreSQL would send for it, or, for the few
 * violations PostgreSQL reports as {@code COMMERROR} (to its log only, then it closes the connection), a message for
 * the log and nothing for the client: see {@link #unanswered}. Thrown by the pure parsing functions of this package;
 * the session answers it with an ErrorResponse, or closes without a word.
 */
public final class ProtocolException extends Exception {
    private final String sqlState;
    private final String detail;
    private final boolean answered;

    public ProtocolException(String sqlState, String message) {
        this(sqlState, message, null);
    }

    /** With PostgreSQL's DETAIL line for the same error ({@code null} for none). */
    public ProtocolException(String sqlState, String message, String detail) {
        this(sqlState, message, detail, true);
    }

    private ProtocolException(String sqlState, String message, String detail, boolean answered) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.detail = detail;
        this.answered = answered;
    }

    /**
     * A violation PostgreSQL answers with nothing: {@code ereport(COMMERROR, …)} writes {@code message} to the server
     * log only, and the connection is closed (ProcessStartupPacket's bad lengths, pq_getmessage's). The peer may not
     * even speak the protocol, and one that does (node-postgres ending a connection before its startup packet went
     * out) must not be told of an error it did not make.
     */
    public static ProtocolException unanswered(String message) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION, message, null, false);
    }

    public String sqlState() {
        return sqlState;
    }

    /** The DETAIL field of the ErrorResponse, or null. */
    public String detail() {
        return detail;
    }

    /** False when PostgreSQL sends no ErrorResponse for this violation, only closes: see {@link #unanswered}. */
    public boolean answered() {
        return answered;
    }
}
