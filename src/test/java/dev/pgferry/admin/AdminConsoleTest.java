package dev.pgferry.admin;

import static dev.pgferry.admin.AdminConsoleRows.pool;
import static dev.pgferry.admin.AdminConsoleRows.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.pgferry.observability.ObservabilityProfile;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The admin console on the virtual database {@code pgferry}, driven by pgjdbc (simple protocol) and psql. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ObservabilityProfile.class)
class AdminConsoleTest {

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ConfigProperty(name = "quarkus.application.version")
    String version;

    @Test
    void showPoolsClientsAndServersReflectAClientHoldingABackendInATransaction() throws Exception {
        try (Connection client = ThroughPgferry.connect(port, "scram_u", "scram_pw", "postgres", false);
                Connection admin = ThroughPgferry.admin(port)) {
            client.setAutoCommit(false);
            try (Statement st = client.createStatement()) {
                st.execute("select 1");
            }
            Thread.sleep(600); // the client tally is reused for up to half a second
            Map<String, String> p = pool(admin, "postgres", "scram_u");
            assertThat(Integer.parseInt(p.get("sv_active"))).isGreaterThanOrEqualTo(1);
            assertThat(Integer.parseInt(p.get("cl_active"))).isGreaterThanOrEqualTo(1);
            assertThat(p.get("cl_waiting")).isEqualTo("0");
            assertThat(p.get("pool_mode")).isEqualTo("transaction");
            assertThat(p.keySet()).contains("sv_idle", "sv_used", "sv_tested", "sv_login", "maxwait", "maxwait_us");
            assertThat(p).as("no cancel in flight").containsEntry("cl_active_cancel_req", "0")
                    .containsEntry("cl_waiting_cancel_req", "0").containsEntry("sv_active_cancel", "0")
                    .containsEntry("sv_being_canceled", "0");

            Map<String, String> me = rows(admin, "show clients").stream()
                    .filter(r -> r.get("user").equals("scram_u") && r.get("link") != null).findFirst().orElseThrow();
            assertThat(me.get("state")).isEqualTo("active");
            assertThat(me.get("addr")).isEqualTo("127.0.0.1");
            List<Map<String, String>> servers = rows(admin, "SHOW SERVERS");
            assertThat(servers).anySatisfy(s -> {
                assertThat(s.get("id")).isEqualTo(me.get("link"));
                assertThat(s.get("state")).isEqualTo("active");
                assertThat(s.get("link")).isEqualTo(me.get("id"));
            });
            client.commit();
            assertThat(rows(admin, "SHOW SERVERS")).anySatisfy(s -> {
                assertThat(s.get("id")).isEqualTo(me.get("link"));
                assertThat(s.get("state")).isEqualTo("idle");
            });
        }
    }

    @Test
    void userNotInAdminUsersIsRefusedWith42501() {
        assertThatThrownBy(() -> ThroughPgferry.connect(port, "plain_u", "plain_pw", "pgferry", true).close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains("permission denied for admin console", "plain_u");
                });
    }

    @Test
    void pauseMakesANewTransactionWaitAndResumeReleasesIt() throws Exception {
        try (Connection client = ThroughPgferry.connect(port, "scram_u", "scram_pw", "bench", true);
                Connection admin = ThroughPgferry.admin(port);
                Statement st = client.createStatement()) {
            st.execute("select 1"); // the pool exists and has learned the server
            try (Statement a = admin.createStatement()) {
                a.execute("PAUSE bench");
                assertThat(warnings(a)).anyMatch(w -> w.contains("database \"bench\" paused"));
            }
            CompletableFuture<Integer> tx = CompletableFuture.supplyAsync(() -> {
                try (ResultSet rs = st.executeQuery("select 42")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThatThrownBy(() -> tx.get(1500, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            Map<String, String> p = pool(admin, "bench", "scram_u");
            assertThat(p.get("paused")).isEqualTo("1");
            assertThat(p.get("cl_waiting")).isEqualTo("1");
            try (Statement a = admin.createStatement()) {
                a.execute("RESUME bench");
            }
            assertThat(tx.get(5, TimeUnit.SECONDS)).isEqualTo(42);
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("0");
        }
    }

    @Test
    void unknownCommandIsA42601ErrorAndTheConsoleStillAnswers() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port)) {
            assertThatThrownBy(() -> rows(admin, "SHOW ME THE MONEY"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42601");
                        assertThat(e.getMessage()).contains("unrecognized command");
                    });
            assertThatThrownBy(() -> rows(admin, "SHOW POOLS please"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42601"));
            assertThat(rows(admin, "SHOW VERSION").get(0).get("version")).startsWith("pgferry ");
        }
    }

    @Test
    void extendedProtocolIsRefusedWith0A000() throws Exception {
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", "postgres");
        props.setProperty("password", "secret");
        props.setProperty("assumeMinServerVersion", "9.4"); // parameters in the startup packet, no SET at login
        try (Connection admin = new org.postgresql.Driver().connect(
                "jdbc:postgresql://127.0.0.1:" + port + "/pgferry", props)) {
            assertThatThrownBy(() -> rows(admin, "SHOW POOLS"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("0A000"));
            assertThatThrownBy(() -> rows(admin, "SHOW VERSION"))
                    .as("the connection is still in step after the refused batch")
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("0A000"));
        }
    }

    @Test
    void helpConfigStatsAndReloadAnswer() throws Exception {
        try (Connection c = ThroughPgferry.connect(port, "postgres", "secret", "postgres", true);
                Statement st = c.createStatement()) {
            st.execute("select 1");
        }
        try (Connection admin = ThroughPgferry.admin(port)) {
            assertThat(rows(admin, "SHOW HELP")).extracting(r -> r.get("command"))
                    .contains("SHOW POOLS", "SHOW CLIENTS", "SHOW SERVERS", "SHOW STATS", "SHOW DATABASES",
                            "SHOW CONFIG", "SHOW VERSION", "PAUSE [db]", "RESUME [db]", "DISABLE db", "ENABLE db",
                            "RECONNECT [db]", "KILL [db]", "RELOAD", "SHUTDOWN");
            assertThat(rows(admin, "SHOW CONFIG")).anySatisfy(r -> {
                assertThat(r.get("key")).isEqualTo("pgferry.listen-port");
                assertThat(r.get("value")).isEqualTo(Integer.toString(port));
            });
            assertThat(rows(admin, "SHOW STATS")).anySatisfy(r -> {
                assertThat(r.get("database")).isEqualTo("postgres");
                assertThat(Long.parseLong(r.get("total_xact_count"))).isPositive();
            });
            try (Statement a = admin.createStatement()) {
                a.execute("RELOAD;");
                assertThat(warnings(a)).anyMatch(w -> w.contains("settings unchanged") && w.contains("reloaded"));
            }
        }
    }

    @Test
    void psqlCanUseTheConsole() throws Exception {
        assumeThat(Files.isExecutable(Path.of("/usr/bin/psql")) || onPath("psql")).as("psql installed").isTrue();
        ProcessBuilder pb = new ProcessBuilder("psql", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres", "-X", "-c", "SHOW POOLS", "-c",
                "SHOW VERSION", "-c", "SHOW DATABASES", "pgferry").redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", "secret");
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("cl_active", "sv_active", "maxwait_us", "pgferry ");
        assertThat(out).contains("force_user", "reserve_pool_size", "current_client_connections", "disabled");
    }

    @Test
    void unknownShowItemIsA42601ErrorNamingTheStatement() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port)) {
            assertThatThrownBy(() -> rows(admin, "SHOW NOTHING"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42601");
                        assertThat(e.getMessage()).isEqualTo(
                                "ERROR: unrecognized command: \"SHOW NOTHING\" (SHOW HELP lists the commands)");
                    });
            assertThatThrownBy(() -> rows(admin, "SHOW"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42601"));
            assertThat(rows(admin, "show version")).as("the console still answers").hasSize(1);
        }
    }

    @Test
    void showConfigListsEverySettingWithItsValueAndWhetherReloadChangesIt() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port)) {
            assertThat(columns(admin, "SHOW CONFIG")).containsExactly("key", "value", "changeable", "source");
            List<Map<String, String>> config = rows(admin, "SHOW CONFIG");
            assertThat(config).allSatisfy(r -> {
                assertThat(r.get("key")).startsWith("pgferry.");
                assertThat(r.get("value")).isNotNull();
                assertThat(r.get("changeable")).isIn("yes", "no", "contents on RELOAD");
                assertThat(r.get("source")).isNotBlank();
            });
            Map<String, Map<String, String>> rowOf = new java.util.HashMap<>();
            config.forEach(r -> rowOf.put(r.get("key"), r));
            // RELOAD applies pool settings, not the listener's
            assertThat(rowOf.get("pgferry.pool.size")).containsEntry("changeable", "yes").containsEntry("source", "default");
            assertThat(rowOf.get("pgferry.listen-port").get("changeable")).isEqualTo("no");
            assertThat(rowOf.get("pgferry.listen-port").get("source")).isNotEqualTo("default");
            Map<String, String> byKey = new java.util.HashMap<>();
            config.forEach(r -> byKey.put(r.get("key"), r.get("value")));
            assertThat(byKey).hasSize(config.size()).as("each key once")
                    .containsEntry("pgferry.listen-port", Integer.toString(port))
                    .containsEntry("pgferry.listen-host", "127.0.0.1")
                    .containsEntry("pgferry.pool.mode", "transaction")
                    .containsEntry("pgferry.pool.size", "20")
                    .containsEntry("pgferry.admin.users", "postgres")
                    .containsEntry("pgferry.health.backend-check-interval", "2s")
                    .containsKeys("pgferry.backend.host", "pgferry.backend.port", "pgferry.pool.query-wait-timeout",
                            "pgferry.admin.pause-timeout", "pgferry.shutdown.drain-timeout");
            assertThat(config).filteredOn(r -> r.get("changeable").equals("contents on RELOAD"))
                    .extracting(r -> r.get("key")).containsExactly("pgferry.auth.users-file", "pgferry.auth.hba-file");
        }
    }

    @Test
    void showVersionIsOneRowAndShowHelpDescribesEveryCommand() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port)) {
            assertThat(columns(admin, "SHOW VERSION")).containsExactly("version");
            assertThat(rows(admin, "SHOW VERSION")).singleElement()
                    .satisfies(r -> assertThat(r.get("version")).isEqualTo("pgferry " + version));
            assertThat(columns(admin, "SHOW HELP")).containsExactly("command", "description");
            List<Map<String, String>> help = rows(admin, "SHOW HELP");
            assertThat(help).extracting(r -> r.get("command")).containsExactlyInAnyOrder("SHOW HELP", "SHOW POOLS",
                    "SHOW CLIENTS", "SHOW SERVERS", "SHOW STATS", "SHOW TOTALS", "SHOW DATABASES", "SHOW USERS",
                    "SHOW LISTS", "SHOW LISTENERS", "SHOW CONFIG", "SHOW VERSION", "PAUSE [db]", "RESUME [db]", "DISABLE db",
                    "ENABLE db", "RECONNECT [db]", "KILL [db]", "KILL_CLIENT id", "WAIT_CLOSE [db]", "RELOAD",
                    "SHUTDOWN", "SET name = value");
            assertThat(help).allSatisfy(r -> assertThat(r.get("description")).isNotBlank());
        }
    }

    @Test
    void showClientsAndServersHavePgBouncersColumns() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port)) {
            assertThat(columns(admin, "SHOW CLIENTS")).containsExactly("type", "user", "database", "state", "addr",
                    "port", "connect_time", "link", "id");
            assertThat(columns(admin, "SHOW SERVERS")).containsExactly("type", "user", "database", "state", "addr",
                    "port", "local_addr", "local_port", "connect_time", "request_time", "remote_pid", "link", "id");
            assertThat(columns(admin, "SHOW POOLS")).containsExactly("database", "user", "cl_active", "cl_waiting",
                    "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active", "sv_active_cancel",
                    "sv_being_canceled", "sv_idle", "sv_used", "sv_tested", "sv_login", "maxwait", "maxwait_us",
                    "pool_mode", "paused");
        }
    }

    @Test
    void setIsAcceptedAndIgnored() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port); Statement st = admin.createStatement()) {
            assertThat(st.execute("SET application_name = 'x'")).as("no result set").isFalse();
            assertThatThrownBy(() -> st.execute("SET")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42601"));
        }
    }

    @Test
    void psqlPrintsShowPoolsAsATableAndAnUnknownCommandAsAnError() throws Exception {
        assumeThat(Files.isExecutable(Path.of("/usr/bin/psql")) || onPath("psql")).as("psql installed").isTrue();
        try (Connection c = ThroughPgferry.connect(port, "postgres", "secret", "postgres", true);
                Statement st = c.createStatement()) {
            st.execute("select 1"); // a pool to list
        }
        ProcessBuilder pb = new ProcessBuilder("psql", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U",
                "postgres", "-X", "-d", "pgferry", "-c", "show pools");
        pb.environment().put("PGPASSWORD", "secret");
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(err).isZero();
        assertThat(err).isEmpty();
        List<String> lines = out.lines().toList();
        assertThat(lines.get(0).split("\\|")).extracting(String::strip).containsExactly("database", "user",
                "cl_active", "cl_waiting", "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active",
                "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used", "sv_tested", "sv_login", "maxwait",
                "maxwait_us", "pool_mode", "paused");
        assertThat(lines.get(1)).matches("-+(\\+-+){16}");
        assertThat(lines).anySatisfy(l -> assertThat(l.split("\\|")).extracting(String::strip)
                .startsWith("postgres", "postgres"));
        int n = lines.size() - 4; // header, rule, rows, "(n rows)", blank line
        assertThat(lines.get(lines.size() - 2)).isEqualTo(n == 1 ? "(1 row)" : "(" + n + " rows)");

        ProcessBuilder bad = new ProcessBuilder("psql", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U",
                "postgres", "-X", "-d", "pgferry", "-c", "show nothing");
        bad.environment().put("PGPASSWORD", "secret");
        Process q = bad.start();
        assertThat(q.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String badErr = new String(q.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(q.exitValue()).isEqualTo(1);
        assertThat(badErr).isEqualTo(
                "ERROR:  unrecognized command: \"show nothing\" (SHOW HELP lists the commands)\n");
    }

    private static List<String> columns(Connection admin, String command) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = admin.createStatement(); ResultSet rs = st.executeQuery(command)) {
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                out.add(rs.getMetaData().getColumnName(i));
            }
        }
        return out;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static List<String> warnings(Statement st) throws SQLException {
        List<String> out = new ArrayList<>();
        for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
            out.add(w.getMessage());
        }
        return out;
    }
}
