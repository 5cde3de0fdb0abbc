package dev.pgferry.config.pgbouncer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.testing.ClientProgram;
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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * pgferry started from nothing but a PgBouncer configuration ({@code pgferry.pgbouncer-ini}: a pgbouncer.ini and its
 * userlist.txt, written as an operator would for the test cluster), driven by pgjdbc and pgbench: the [databases]
 * aliases, a forced user, [users] settings winning over the database's, a name the file does not list refused as
 * PgBouncer refuses it, explicit settings winning over the file, and SHOW CONFIG / DATABASES / USERS saying so.
 */
@QuarkusTest
@WithTestResource(PgBouncerIniStartTest.IniResource.class)
class PgBouncerIniStartTest {

    /** Writes target/pgbouncer-ini-test/pgbouncer.ini for the fixture's cluster; the only pgferry key it sets is the file. */
    public static class IniResource implements QuarkusTestResourceLifecycleManager {
        static final Path DIR = Path.of("target", "pgbouncer-ini-test").toAbsolutePath();

        @Override
        public Map<String, String> start() {
            PostgresFixture pg = PostgresFixture.get();
            String server = "host=" + pg.host() + " port=" + pg.port();
            String ini = """
                    ;; pgferry test: a PgBouncer configuration as an operator has it
                    [databases]
                    appdb = %1$s dbname=postgres pool_size=3 reserve_pool_size=1 max_db_connections=5 pool_mode=transaction
                    forced = %1$s dbname=postgres user=plain_u password=plain_pw
                    benchdb = %1$s dbname=bench pool_size=4

                    [users]
                    md5_u = pool_size=2 pool_mode=session max_user_connections=4

                    [pgbouncer]
                    logfile = /var/log/pgbouncer/pgbouncer.log
                    pidfile = /var/run/pgbouncer/pgbouncer.pid
                    listen_addr = 127.0.0.1
                    listen_port = 6432
                    auth_type = md5
                    auth_file = %2$s
                    admin_users = postgres
                    pool_mode = transaction
                    default_pool_size = 7
                    max_client_conn = 500
                    server_idle_timeout = 0
                    query_wait_timeout = 30
                    """.formatted(server, DIR.resolve("userlist.txt"));
            try {
                Files.createDirectories(DIR);
                Files.copy(pg.usersFile(), DIR.resolve("userlist.txt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.writeString(DIR.resolve("pgbouncer.ini"), ini);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("pgferry.pgbouncer-ini", DIR.resolve("pgbouncer.ini").toString());
        }

        @Override
        public void stop() {}
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private Connection connect(String user, String password, String database, String... options) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        for (int i = 0; i < options.length; i += 2) {
            p.setProperty(options[i], options[i + 1]);
        }
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    private Connection admin() throws SQLException {
        return connect("postgres", "secret", "pgferry", "preferQueryMode", "simple");
    }

    private static String value(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int line(String text) throws IOException {
        return Files.readAllLines(IniResource.DIR.resolve("pgbouncer.ini")).indexOf(text) + 1;
    }

    @Test
    void aliasesOfTheDatabasesSectionLeadToTheirServerDatabase() throws SQLException {
        try (Connection c = connect("postgres", "secret", "appdb")) {
            assertThat(value(c, "SELECT current_database()")).isEqualTo("postgres");
        }
    }

    @Test
    void aForcedUserIsWhoTheServerSeesWhileTheClientLogsInAsItself() throws SQLException {
        try (Connection c = connect("md5_u", "md5_pw", "forced")) {
            assertThat(value(c, "SELECT current_user")).isEqualTo("plain_u");
        }
        assertThatThrownBy(() -> connect("md5_u", "wrong", "forced")).isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed");
    }

    @Test
    void aNameTheFileDoesNotListIsRefusedAfterAuthentication() {
        // PgBouncer without a "*" entry: finish_client_login's "no such database", after the password was checked
        assertThatThrownBy(() -> connect("postgres", "secret", "postgres")).isInstanceOf(SQLException.class)
                .hasMessageContaining("no such database: postgres");
        assertThatThrownBy(() -> connect("postgres", "wrong", "postgres")).isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed");
    }

    @Test
    void showConfigSaysWhereEachValueCameFromAndExplicitSettingsWin() throws Exception {
        Path ini = IniResource.DIR.resolve("pgbouncer.ini");
        Map<String, List<String>> config;
        try (Connection admin = admin()) {
            config = AdminConsoleRows.rows(admin, "SHOW CONFIG").stream().collect(Collectors.toMap(r -> r.get("key"),
                    r -> List.of(r.get("value"), r.get("source"))));
        }
        assertThat(config.get("pgferry.pool.size")).containsExactly("7", "pgbouncer.ini " + ini + ":" + line("default_pool_size = 7"));
        assertThat(config.get("pgferry.pool.max-client-connections"))
                .containsExactly("500", "pgbouncer.ini " + ini + ":" + line("max_client_conn = 500"));
        assertThat(config.get("pgferry.pool.query-wait-timeout")).containsExactly("30s",
                "pgbouncer.ini " + ini + ":" + line("query_wait_timeout = 30"));
        // PgBouncer's default for a key the file leaves out
        assertThat(config.get("pgferry.tls.server.mode")).containsExactly("prefer", "pgbouncer.ini default");
        // the test profile's port (environment) wins over the file's listen_port = 6432
        assertThat(config.get("pgferry.listen-port").get(0)).isEqualTo(Integer.toString(port)).isNotEqualTo("6432");
        assertThat(config.get("pgferry.listen-port").get(1)).doesNotStartWith("pgbouncer.ini");
        assertThat(config.get("pgferry.prepared.max-per-backend").get(1)).isEqualTo("default");
    }

    @Test
    void showDatabasesAndUsersShowTheSettingsOfTheFile() throws SQLException {
        try (Connection md5 = connect("md5_u", "md5_pw", "appdb"); Connection admin = admin()) {
            assertThat(value(md5, "SELECT 1")).isEqualTo("1");
            Map<String, String> appdb = AdminConsoleRows.rows(admin, "SHOW DATABASES").stream()
                    .filter(r -> r.get("name").equals("appdb")).findFirst().orElseThrow();
            assertThat(appdb).containsEntry("database", "postgres").containsEntry("pool_size", "3")
                    .containsEntry("reserve_pool_size", "1").containsEntry("max_connections", "5")
                    .containsEntry("pool_mode", "transaction");
            Map<String, String> forced = AdminConsoleRows.rows(admin, "SHOW DATABASES").stream()
                    .filter(r -> r.get("name").equals("forced")).findFirst().orElseThrow();
            assertThat(forced).containsEntry("force_user", "plain_u").containsEntry("pool_size", "7")
                    .containsEntry("pool_mode", null);
            Map<String, String> user = AdminConsoleRows.rows(admin, "SHOW USERS").stream()
                    .filter(r -> r.get("name").equals("md5_u")).findFirst().orElseThrow();
            assertThat(user).containsEntry("pool_size", "2").containsEntry("pool_mode", "session")
                    .containsEntry("max_user_connections", "4").containsEntry("reserve_pool_size", "");
            Map<String, String> postgres = AdminConsoleRows.rows(admin, "SHOW USERS").stream()
                    .filter(r -> r.get("name").equals("postgres")).findFirst().orElseThrow();
            assertThat(postgres).containsEntry("pool_size", "").containsEntry("pool_mode", null)
                    .containsEntry("max_user_connections", "0");
            // the user's pool mode wins over the database's, as PgBouncer's [users] pool_mode
            assertThat(AdminConsoleRows.pool(admin, "appdb", "md5_u")).containsEntry("pool_mode", "session");
        }
    }

    @Test
    void pgbenchRunsThroughADatabaseOfTheFile() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        assumeTrue(pg.isLocal(), "pgbench -i needs the local cluster's tools");
        pg.local().initPgbench(1);
        ClientProgram.Result r = ClientProgram.run(List.of("pgbench", "-S", "-c", "8", "-j", "2", "-T", "3", "-h",
                "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "benchdb"), "secret", Map.of(), 120);
        assertThat(r.exitCode()).as("pgbench exit; stderr: %s%nstdout: %s", r.stderr(), r.stdout()).isZero();
        assertThat(r.stdout()).contains("number of failed transactions: 0 ");
        try (Connection admin = admin()) {
            // eight clients on a pool of four: the file's pool_size held
            assertThat(Integer.parseInt(AdminConsoleRows.pool(admin, "benchdb", "postgres").get("sv_idle"))
                    + Integer.parseInt(AdminConsoleRows.pool(admin, "benchdb", "postgres").get("sv_active")))
                    .isBetween(1, 4);
        }
    }
}
