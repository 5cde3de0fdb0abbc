package dev.pgferry.pooling;

import dev.pgferry.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import org.postgresql.Driver;

/** Connections through pgferry (127.0.0.1:16432 in tests by default) and straight to the fixture's server. */
final class Clients {
    static final String HOST = "127.0.0.1";
    static final Map<String, String> PASSWORDS =
            Map.of("postgres", "secret", "scram_u", "scram_pw", "md5_u", "md5_pw", "plain_u", "plain_pw");

    // not DriverManager: after a @QuarkusTest ran, its registered driver belongs to another class loader
    private static final Driver DRIVER = new Driver();

    private Clients() {}

    /** pgferry's listen port in this test run (16432 unless overridden, e.g. by {@code _TEST_PGFERRY_LISTEN_PORT}). */
    static int port() {
        return org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("pgferry.listen-port", Integer.class);
    }

    /** A pgjdbc connection through pgferry; {@code extra} are further pgjdbc properties, name then value. */
    static Connection proxy(String user, String database, String... extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", PASSWORDS.get(user));
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "60");
        for (int i = 0; i < extra.length; i += 2) {
            p.setProperty(extra[i], extra[i + 1]);
        }
        Connection c = DRIVER.connect("jdbc:postgresql://" + HOST + ":" + port() + "/" + database, p);
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

    static String sqlState(Throwable t) {
        while (t != null) {
            if (t instanceof SQLException e && e.getSQLState() != null) {
                return e.getSQLState();
            }
            t = t.getCause();
        }
        return null;
    }
}
