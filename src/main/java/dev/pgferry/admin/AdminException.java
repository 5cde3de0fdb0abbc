package dev.pgferry.admin;

import dev.pgferry.protocol.SqlState;

/** A command that cannot run, answered with an ErrorResponse; the connection stays usable. */
final class AdminException extends Exception {
    private final String sqlState;

    AdminException(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    static AdminException syntax(String message) {
        return new AdminException(SqlState.SYNTAX_ERROR, message);
    }

    String sqlState() {
        return sqlState;
    }
}
