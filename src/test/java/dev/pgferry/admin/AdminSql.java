package dev.pgferry.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Statements the admin-command tests send, to the console and to the server through pgferry. */
final class AdminSql {
    private AdminSql() {}

    /** Runs a command that answers no rows; false, as {@link Statement#execute} answers then. */
    static boolean exec(Connection admin, String command) throws SQLException {
        try (Statement st = admin.createStatement()) {
            return st.execute(command);
        }
    }

    /** {@code command} is refused with exactly this SQLSTATE and message. */
    static void assertError(Connection admin, String command, String sqlState, String message) {
        assertThatThrownBy(() -> exec(admin, command)).as(command).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo(sqlState);
            assertThat(e.getMessage()).isEqualTo("ERROR: " + message);
        });
    }

    /** The first column of the first row, null for a statement without rows. */
    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            if (!st.execute(sql)) {
                return null;
            }
            try (ResultSet rs = st.getResultSet()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** {@link #one} as a number. */
    static long count(Connection c, String sql) {
        try {
            return Long.parseLong(one(c, sql));
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }
}
