package dev.pgferry.config.pgbouncer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.testing.PostgresFixture;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * RELOAD re-reads pgferry.pgbouncer-ini and applies what changed without dropping a client: a new pool size as
 * backends are released, a new server database for new backends while a transaction open across the reload finishes
 * on its old one, a removed database refusing new logins while its logged-in client keeps working, and a broken file
 * keeping the running configuration and answering its error with file and line.
 */
@QuarkusTest
@WithTestResource(PgBouncerIniReloadTest.IniResource.class)
class PgBouncerIniReloadTest {
    static final Path DIR = Path.of("target", "pgbouncer-ini-reload-test").toAbsolutePath();
    static final Path INI = DIR.resolve("pgbouncer.ini");

    static String ini(String appdb, boolean withGone, String extra) {
        PostgresFixture pg = PostgresFixture.get();
        String server = "host=" + pg.host() + " port=" + pg.port();
        return "[databases]\n"
                + "appdb = " + server + " " + appdb + "\n"
                + (withGone ? "gone = " + server + " dbname=postgres\n" : "")
                + "[pgbouncer]\n"
                + "auth_type = md5\n"
                + "auth_file = " + DIR.resolve("userlist.txt") + "\n"
                + "admin_users = postgres\n"
                + "pool_mode = transaction\n"
                + extra;
    }

    public static class IniResource implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                Files.createDirectories(DIR);
                Files.copy(PostgresFixture.get().usersFile(), DIR.resolve("userlist.txt"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.writeString(INI, ini("dbname=postgres pool_size=3", true, ""));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("pgferry.pgbouncer-ini", INI.toString());
        }

        @Override
        public void stop() {}
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private Connection connect(String database, String... options) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", "secret");
        for (int i = 0; i < options.length; i += 2) {
            p.setProperty(options[i], options[i + 1]);
        }
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    private static String value(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Map<String, String> database(Connection admin, String name) throws SQLException {
        return AdminConsoleRows.rows(admin, "SHOW DATABASES").stream().filter(r -> r.get("name").equals(name))
                .findFirst().orElseThrow();
    }

    private static String reload(Connection admin) throws SQLException {
        try (Statement st = admin.createStatement()) {
            st.execute("RELOAD");
            StringBuilder notices = new StringBuilder();
            for (java.sql.SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
                notices.append(w.getMessage()).append('\n');
            }
            return notices.toString();
        }
    }

    private static int open(Connection admin, String db) {
        Map<String, String> p = AdminConsoleRows.pool(admin, db, "postgres");
        return Integer.parseInt(p.get("sv_active")) + Integer.parseInt(p.get("sv_idle"))
                + Integer.parseInt(p.get("sv_login"));
    }

    @Test
    void reloadAppliesTheChangedFileWithoutDroppingAClient() throws Exception {
        assumeTrue(PostgresFixture.get().isLocal(), "the test creates the bench database with the local cluster's pgbench");
        PostgresFixture.get().local().initPgbench(1); // the "bench" database the changed entry points to
        try (Connection admin = connect("pgferry", "preferQueryMode", "simple");
                Connection gone = connect("gone");
                Connection held = connect("appdb")) {
            // three clients in transactions at once: the pool of size 3 opens three backends
            List<Connection> busy = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Connection c = connect("appdb");
                c.setAutoCommit(false);
                value(c, "SELECT 1");
                busy.add(c);
            }
            assertThat(open(admin, "appdb")).isEqualTo(3);
            held.setAutoCommit(false);
            assertThat(value(gone, "SELECT current_database()")).isEqualTo("postgres");
            assertThat(database(admin, "appdb")).containsEntry("pool_size", "3").containsEntry("database", "postgres");

            // a client inside a transaction, the host entry now leads elsewhere, the pool is smaller, gone is gone
            Files.writeString(INI, ini("dbname=bench pool_size=1", false, "default_pool_size = 9\n"));
            String notice = reload(admin);
            assertThat(notice).contains("settings reloaded").contains("pgferry.databases.\"appdb\".dbname")
                    .contains("pgferry.pool.size");

            assertThat(database(admin, "appdb")).containsEntry("pool_size", "1").containsEntry("database", "bench");
            Map<String, String> size = AdminConsoleRows.rows(admin, "SHOW CONFIG").stream()
                    .filter(r -> r.get("key").equals("pgferry.pool.size")).findFirst().orElseThrow();
            assertThat(size).containsEntry("value", "9").containsEntry("source", "pgbouncer.ini " + INI + ":8");

            // the transactions open across the reload run on; released, their backends close down to the new size
            for (Connection c : busy) {
                assertThat(value(c, "SELECT current_database()")).isEqualTo("postgres");
                c.commit();
                c.close();
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (open(admin, "appdb") > 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(open(admin, "appdb")).isLessThanOrEqualTo(1);
            // the next transaction runs on a backend of the new entry
            assertThat(value(held, "SELECT current_database()")).isEqualTo("bench");
            held.commit();

            // a removed database: new logins refused after authentication, its logged-in client keeps working
            assertThatThrownBy(() -> connect("gone")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("no such database: gone");
            assertThat(value(gone, "SELECT 1")).isEqualTo("1");

            // a broken file changes nothing and RELOAD answers its error with file and line
            Files.writeString(INI, ini("dbname=postgres pool_size=7", false, "pool_mode = statement\n"));
            assertThatThrownBy(() -> reload(admin)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("pool_mode = statement cannot be honoured")
                    .hasMessageContaining(INI + ":8");
            assertThat(database(admin, "appdb")).containsEntry("pool_size", "1").containsEntry("database", "bench");
            assertThat(value(held, "SELECT current_database()")).isEqualTo("bench");
        }
    }

    /** The start's file with one more entry, {@code svcdb = <server> <svcdb>}. */
    private static String withSvcdb(String svcdb) {
        PostgresFixture pg = PostgresFixture.get();
        return ini("dbname=postgres pool_size=3", true, "").replace("[pgbouncer]\n",
                "svcdb = host=" + pg.host() + " port=" + pg.port() + " dbname=postgres " + svcdb + "\n[pgbouncer]\n");
    }

    private Connection connectAs(String user, String password, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    private static List<String> poolUsers(Connection admin, String database) throws SQLException {
        return AdminConsoleRows.rows(admin, "SHOW POOLS").stream().filter(r -> r.get("database").equals(database))
                .map(r -> r.get("user")).sorted().toList();
    }

    @Test
    void aForcedUserAddedByReloadTakesNewLoginsToItsOnePool() throws Exception {
        try (Connection admin = connect("pgferry", "preferQueryMode", "simple")) {
            try {
                Files.writeString(INI, withSvcdb("pool_size=2"));
                assertThat(reload(admin)).contains("settings reloaded");
                try (Connection before = connectAs("md5_u", "md5_pw", "svcdb")) {
                    assertThat(value(before, "SELECT current_user")).isEqualTo("md5_u");

                    // [databases] svcdb = ... user=plain_u: new logins of any user join (svcdb, plain_u)
                    Files.writeString(INI, withSvcdb("pool_size=2 user=plain_u password=plain_pw"));
                    assertThat(reload(admin)).contains("settings reloaded").contains("pgferry.databases.\"svcdb\".user");
                    try (Connection md5 = connectAs("md5_u", "md5_pw", "svcdb");
                            Connection scram = connectAs("scram_u", "scram_pw", "svcdb")) {
                        assertThat(value(md5, "SELECT current_user")).isEqualTo("plain_u");
                        assertThat(value(scram, "SELECT current_user")).isEqualTo("plain_u");
                        // the client logged in before the reload keeps the pool it joined, and its backends
                        assertThat(value(before, "SELECT current_user")).isEqualTo("md5_u");
                        assertThat(poolUsers(admin, "svcdb")).containsExactly("md5_u", "plain_u");
                        assertThat(AdminConsoleRows.rows(admin, "SHOW CLIENTS").stream()
                                .filter(r -> r.get("database").equals("svcdb")).map(r -> r.get("user")))
                                .containsExactlyInAnyOrder("md5_u", "md5_u", "scram_u");
                    }

                    // a forced user with no password to log in with is refused, as at start: the running one stays
                    Files.writeString(INI, withSvcdb("pool_size=2 user=nobody_u"));
                    assertThatThrownBy(() -> reload(admin)).isInstanceOf(SQLException.class)
                            .hasMessageContaining("the running one stays in force")
                            .hasMessageContaining("database \"svcdb\" forces user \"nobody_u\"");
                    try (Connection md5 = connectAs("md5_u", "md5_pw", "svcdb")) {
                        assertThat(value(md5, "SELECT current_user")).isEqualTo("plain_u");
                    }
                }
            } finally {
                Files.writeString(INI, ini("dbname=postgres pool_size=3", true, "")); // as the start had it
                reload(admin);
            }
        }
    }
}
