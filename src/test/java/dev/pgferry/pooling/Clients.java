package dev.pgferry.pooling;

import dev.pgferry.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.postgresql.Driver;

/**
 * Connections through pgferry and straight to the fixture's server. The tests pass pgferry's port from their injected
 * {@code pgferry.listen-port}: ConfigProvider in test code may still answer for an earlier test's application.
 */
final class Clients {
    static final String HOST = "127.0.0.1";
    static final Map<String, String> PASSWORDS =
            Map.of("postgres", "secret", "scram_u", "scram_pw", "md5_u", "md5_pw", "plain_u", "plain_pw");

    // not DriverManager: after a @QuarkusTest ran, its registered driver belongs to another class loader
    private static final Driver DRIVER = new Driver();

    private Clients() {}

    /** A pgjdbc connection through pgferry on {@code port}; {@code extra} are further pgjdbc properties, name then value. */
    static Connection proxy(int port, String user, String database, String... extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", PASSWORDS.get(user));
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "60");
        for (int i = 0; i < extra.length; i += 2) {
            p.setProperty(extra[i], extra[i + 1]);
        }
        Connection c = DRIVER.connect("jdbc:postgresql://" + HOST + ":" + port + "/" + database, p);
        if (c == null) {
            throw new SQLException("pgjdbc refused the URL");
        }
        return c;
    }

    /** A superuser connection straight to the server, bypassing pgferry. */
    static Connection direct(String database) throws SQLException {
        return PostgresFixture.get().connect(PostgresFixture.SUPERUSER, database);
    }

    /** Runs statements as the superuser straight on the server. */
    static void directExec(String database, String... sql) throws SQLException {
        try (Connection c = direct(database); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /** The first column of the first row. */
    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no row: " + sql);
            }
            return rs.getString(1);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        return Long.parseLong(one(c, sql));
    }

    /** Backends the server has for (user, database), as pg_stat_activity shows them. */
    static int serverBackends(Connection direct, String user, String database) throws SQLException {
        return (int) count(direct, "select count(*) from pg_stat_activity where usename = '" + user
                + "' and datname = '" + database + "'");
    }

    /** The process ids of the server's backends for (user, database), ascending, as pg_stat_activity shows them. */
    static List<Integer> serverPids(Connection direct, String user, String database) throws SQLException {
        List<Integer> pids = new ArrayList<>();
        try (PreparedStatement st = direct.prepareStatement(
                "select pid from pg_stat_activity where usename = ? and datname = ? order by pid")) {
            st.setString(1, user);
            st.setString(2, database);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
        }
        return pids;
    }

    /** Something read from the server again and again. */
    interface ServerRead<T> {
        T read() throws SQLException;
    }

    /**
     * Reads {@code what} every 50 ms until {@code done} holds or {@code within} has passed; returns the last value
     * read, for the caller to assert on (so that a timeout fails with what was seen).
     */
    static <T> T await(Duration within, ServerRead<T> what, Predicate<T> done) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        T value = what.read();
        while (!done.test(value) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            value = what.read();
        }
        return value;
    }

    static String sqlState(Throwable t) {
        while (t != null) {
            if (t instanceof SQLException e && e.getSQLState() != null) {
                return e.getSQLState();
            }
            t = t.getCause();
        }
        return null;
    }

    /**
     * Waits up to 10 s until the server shows a session of {@code user} running a statement that starts with
     * {@code prefix} (or waiting for a lock in it); returns its pid.
     */
    static int awaitActive(Connection direct, String user, String prefix) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (var ps = direct.prepareStatement("select coalesce(max(pid), 0) from pg_stat_activity where usename = ?"
                    + " and starts_with(query, ?) and (state = 'active' or wait_event_type = 'Lock')")) {
                ps.setString(1, user);
                ps.setString(2, prefix);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) != 0) {
                        return rs.getInt(1);
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no session running " + prefix);
    }
}
