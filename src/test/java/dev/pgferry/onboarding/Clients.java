package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgferry.testing.ClientProgram;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.postgresql.util.PSQLException;

/** Real clients pointed at pgferry: pgjdbc (through its Driver, not DriverManager) and psql. */
final class Clients {

    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

    private Clients() {}

    /** A pgjdbc connection; {@code password} null sends none (for trust). */
    static Connection jdbc(int port, String user, String password, String database, Map<String, String> extra)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        extra.forEach(props::setProperty);
        Connection c = DRIVER.connect("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
        assertThat(c).as("pgjdbc accepted the URL").isNotNull();
        return c;
    }

    static Connection jdbc(int port, String user, String password, String database) throws SQLException {
        return jdbc(port, user, password, database, Map.of());
    }

    static String queryOne(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    /** pgjdbc logging in as {@code user} with a wrong password gets FATAL 28P01 as PostgreSQL words it. */
    static void assertPgjdbcWrongPasswordRefused(int port, String user) {
        PSQLException e = catchThrowableOfType(PSQLException.class, () -> jdbc(port, user, "wrong", "postgres").close());
        assertThat((Throwable) e).as("pgjdbc login refused").isNotNull();
        assertThat(e.getSQLState()).isEqualTo("28P01");
        assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
        assertThat(e.getServerErrorMessage().getMessage())
                .isEqualTo("password authentication failed for user \"" + user + "\"");
    }

    /** pgferry still logs in and serves a pgjdbc client. */
    static void assertServesPgjdbc(int port) throws SQLException {
        try (Connection c = jdbc(port, "postgres", "secret", "postgres")) {
            assertThat(queryOne(c, "select 40 + 2")).isEqualTo("42");
        }
    }

    /** {@code psql -X -w -At -c sql} against pgferry. */
    static ClientProgram.Result psql(int port, String user, String password, String database, String sql, Map<String, String> env)
            throws IOException, InterruptedException {
        return ClientProgram.run(List.of("/usr/bin/psql", "-X", "-w", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", user, "-d", database, "-c", sql), password, env, 60);
    }
}
