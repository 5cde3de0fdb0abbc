package dev.pgferry.auth;

/**
 * An authentication failure that has a defined answer on the wire: a SQLSTATE, a primary message
 * worded as PostgreSQL words it, and an optional detail line (the ErrorResponse 'D' field).
 *
 * <p>Messages never contain secret material. The stack trace is not captured: failed logins are
 * expected traffic (a brute-force attempt must not turn into stack-walking work).
 */
public final class AuthException extends Exception {

    /** invalid_password: wrong password, unknown user, failed proof. */
    public static final String INVALID_PASSWORD = "28P01";
    /** invalid_authorization_specification: e.g. the backend refused us for a reason we do not know. */
    public static final String INVALID_AUTHORIZATION_SPECIFICATION = "28000";
    /** protocol_violation: a malformed SCRAM message. */
    public static final String PROTOCOL_VIOLATION = "08P01";
    /** feature_not_supported: SCRAM authzid or mandatory extensions, as PostgreSQL answers them. */
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    /** config_file_error: what the configuration asks cannot be checked (clientcert without a CA file). */
    public static final String CONFIG_FILE_ERROR = "F0000";

    private static final long serialVersionUID = 1L;

    private final String sqlState;
    private final String detail;

    public AuthException(String sqlState, String message) {
        this(sqlState, message, null);
    }

    public AuthException(String sqlState, String message, String detail) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.detail = detail;
    }

    /** The SQLSTATE to send in the ErrorResponse 'C' field. */
    public String sqlState() {
        return sqlState;
    }

    /** The ErrorResponse 'D' (detail) field, or {@code null} when there is none. */
    public String detail() {
        return detail;
    }

    /** PostgreSQL's answer to a wrong password, an unknown user and a failed SCRAM proof alike. */
    public static AuthException passwordFailed(String user) {
        return new AuthException(INVALID_PASSWORD,
                "password authentication failed for user \"" + user + "\"");
    }

    /** PostgreSQL's answer to a SCRAM message it cannot parse ({@code auth-scram.c}). */
    public static AuthException malformed(String detail) {
        return new AuthException(PROTOCOL_VIOLATION, "malformed SCRAM message", detail);
    }

    @Override
    public String toString() {
        String s = getClass().getSimpleName() + " [" + sqlState + "]: " + getMessage();
        return detail == null ? s : s + " (" + detail + ")";
    }
}
