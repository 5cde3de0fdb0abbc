package dev.pgferry.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.cli.PackagedJar;
import dev.pgferry.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The packaged jar in front of the test primary and its streaming replica, as two databases over the same two hosts:
 * {@code app} (read-write, the default for a list) and {@code app_ro} (prefer-standby). Where a statement ran is
 * asked of the server itself through pgferry: {@code inet_server_port()} and {@code pg_is_in_recovery()}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RoleRoutingIT {
    private static final String HOST = "127.0.0.1";
    /** Nothing listens there: a wrong entry of a host list. */
    private static final int WRONG_PORT = 1;
    private static PostgresFixture primary;
    private static PostgresFixture replica;
    private static int port;
    private static int httpPort;
    private static PackagedJar.Running jar;
    /** A properties file RELOAD reads again: database {@code app_re}'s host list changes there. */
    private static java.nio.file.Path reloaded;

    @BeforeAll
    static void start() throws Exception {
        PackagedJar.jar();
        primary = PostgresFixture.get();
        replica = PostgresFixture.replica();
        port = PackagedJar.freePort();
        httpPort = PackagedJar.freePort();
        reloaded = java.nio.file.Files.createTempFile("pgferry-reload", ".properties");
        java.nio.file.Files.writeString(reloaded, appRe(HOST + ":" + primary.port(), ""));
        String hosts = primary.host() + ":" + primary.port() + "," + replica.host() + ":" + replica.port();
        jar = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=" + HOST, "-Dpgferry.listen-port=" + port,
                "-Dpgferry.auth.users-file=" + primary.usersFile(), "-Dpgferry.backend.host=" + primary.host(),
                "-Dpgferry.backend.port=" + primary.port(), "-Dpgferry.databases.\"app\".hosts=" + hosts, "-Dpgferry.databases.\"app\".dbname=postgres",
                "-Dpgferry.databases.\"app_ro\".hosts=" + hosts, "-Dpgferry.databases.\"app_ro\".dbname=postgres",
                "-Dpgferry.databases.\"app_ro\".target-role=prefer-standby",
                "-Dpgferry.databases.\"app_standby\".hosts=" + hosts,
                "-Dpgferry.databases.\"app_standby\".dbname=postgres",
                "-Dpgferry.databases.\"app_standby\".target-role=standby",
                "-Dpgferry.databases.\"app_fresh\".hosts=" + hosts, "-Dpgferry.databases.\"app_fresh\".dbname=postgres",
                "-Dpgferry.databases.\"app_fresh\".target-role=prefer-standby",
                "-Dpgferry.databases.\"app_fresh\".max-replica-lag=1s",
                "-Dpgferry.databases.\"app_wrong\".hosts=" + HOST + ":" + WRONG_PORT + "," + primary.host() + ":"
                        + primary.port(), "-Dpgferry.databases.\"app_wrong\".dbname=postgres",
                "-Dpgferry.health.role-check-interval=1s", "-Dquarkus.http.port=" + httpPort,
                "-Dquarkus.config.locations=" + reloaded.toUri()), List.of(), "");
        jar.await(l -> l.contains("started in"), Duration.ofSeconds(120));
        jar.await(l -> l.contains("host " + HOST + ":" + primary.port() + " is primary now"), Duration.ofSeconds(30));
        jar.await(l -> l.contains("host " + HOST + ":" + replica.port() + " is standby now"), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (jar != null) {
            jar.close();
        }
        if (replica != null && !replica.local().isRunning()) {
            replica.local().startAgain();
        }
        if (reloaded != null) {
            java.nio.file.Files.deleteIfExists(reloaded);
        }
    }

    private static Connection connect(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port + "/" + database, "postgres",
                "secret");
    }

    /** {@code port recovery} of the server that runs a statement of {@code database}'s, e.g. {@code 5432 f}. */
    private static String where(String database) throws SQLException {
        try (Connection c = connect(database); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select inet_server_port(), pg_is_in_recovery()")) {
            rs.next();
            return rs.getInt(1) + " " + (rs.getBoolean(2) ? "t" : "f");
        }
    }

    /** Asks until the answer is {@code expected} (a role change takes up to a check interval to be seen). */
    private static String awaitWhere(String database, String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = where(database);
                if (last.equals(expected)) {
                    return last;
                }
            } catch (SQLException e) {
                last = e.getSQLState() + " " + e.getMessage();
            }
            Thread.sleep(100);
        }
        return last;
    }

    @Test
    @Order(1)
    void writesThroughAppLandOnThePrimary() throws Exception {
        assertThat(where("app")).isEqualTo(primary.port() + " f");
        try (Connection c = connect("app"); Statement st = c.createStatement()) {
            st.execute("drop table if exists routed_writes");
            st.execute("create table routed_writes (v int)");
            st.execute("insert into routed_writes values (1)");
        }
        for (int i = 0; i < 5; i++) {
            assertThat(where("app")).isEqualTo(primary.port() + " f");
        }
    }

    @Test
    @Order(2)
    void readsThroughAppRoLandOnTheReplica() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(where("app_ro")).isEqualTo(replica.port() + " t");
        }
        try (Connection c = connect("app_ro"); Statement st = c.createStatement()) {
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> st.execute("create table not_on_a_standby (v int)"));
            assertThat(refused.getSQLState()).isEqualTo("25006");
        }
    }

    @Test
    @Order(3)
    void appRoFallsBackToThePrimaryWhileTheReplicaIsStoppedAndReturnsAfter() throws Exception {
        replica.local().stop();
        try {
            jar.await(l -> l.contains("host " + HOST + ":" + replica.port() + " is unreachable now (was standby)"),
                    Duration.ofSeconds(10));
            assertThat(awaitWhere("app_ro", primary.port() + " f")).isEqualTo(primary.port() + " f");
            for (int i = 0; i < 5; i++) {
                assertThat(where("app_ro")).isEqualTo(primary.port() + " f");
            }
            assertThat(where("app")).isEqualTo(primary.port() + " f");
            String ready = http("/q/health/ready");
            assertThat(ready).as(ready).startsWith("503 ")
                    .containsPattern(data("app_standby", "DOWN, no standby host answers: " + HOST + ":"
                            + primary.port() + " primary; " + HOST + ":" + replica.port() + " unknown ("))
                    .containsPattern(data("app_ro", "UP: ")).containsPattern(data("app", "UP: "));
        } finally {
            replica.local().startAgain();
        }
        assertThat(awaitWhere("app_ro", replica.port() + " t")).isEqualTo(replica.port() + " t");
        for (int i = 0; i < 5; i++) {
            assertThat(where("app_ro")).isEqualTo(replica.port() + " t");
        }
        long changes = jar.lines().stream().filter(l -> l.contains("host " + HOST + ":" + replica.port() + " is"))
                .count();
        assertThat(changes).as("one INFO line per change: standby, unreachable, standby").isEqualTo(3);
    }

    @Test
    @Order(4)
    void showCommandsHealthAndMetricsNameEachHostAndItsRole() throws Exception {
        try (Connection app = connect("app"); Statement inTx = app.createStatement();
                Connection admin = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port
                        + "/pgferry?preferQueryMode=simple", "postgres", "secret");
                Statement st = admin.createStatement()) {
            app.setAutoCommit(false);
            inTx.execute("select 1"); // holds its backend: an active server
            String servers = rows(st, "SHOW SERVERS", "database", "state", "port", "role");
            assertThat(servers).contains("app active " + primary.port() + " primary");
            String pools = rows(st, "SHOW POOLS", "database", "target_role", "hosts");
            assertThat(pools).contains("app read-write " + HOST + ":" + primary.port() + " primary ")
                    .contains(", " + HOST + ":" + replica.port() + " standby 0\n")
                    .contains("app_ro prefer-standby " + HOST + ":" + primary.port() + " primary ");
            app.rollback();
        }
        String ready = awaitHttp("/q/health/ready", "200 ");
        assertThat(ready).containsPattern(data("app", "UP: " + HOST + ":" + primary.port() + " primary; " + HOST + ":"
                + replica.port() + " standby")); // "(n ms behind)" may follow while the replica catches up
        String metrics = http("/q/metrics");
        assertThat(metrics).contains("pgferry_host_role{host=\"" + HOST + ":" + primary.port() + "\",role=\"primary\"} 1.0")
                .contains("pgferry_host_role{host=\"" + HOST + ":" + replica.port() + "\",role=\"standby\"} 1.0")
                .contains("pgferry_host_role{host=\"" + HOST + ":" + replica.port() + "\",role=\"primary\"} 0.0")
                .contains("pgferry_host_backends{database=\"app\",host=\"" + HOST + ":" + primary.port() + "\"}");
    }

    @Test
    @Order(5)
    void aReplicaTooFarBehindIsSkippedByMaxReplicaLagOnly() throws Exception {
        assertThat(awaitWhere("app_fresh", replica.port() + " t")).isEqualTo(replica.port() + " t");
        try (Connection r = replica.connect(PostgresFixture.SUPERUSER, "postgres"); Statement st = r.createStatement()) {
            st.execute("select pg_wal_replay_pause()");
            try {
                try (Connection p = primary.connect(PostgresFixture.SUPERUSER, "postgres");
                        Statement w = p.createStatement()) {
                    w.execute("create table if not exists routed_writes (v int)");
                    w.execute("insert into routed_writes values (2)");
                }
                assertThat(awaitWhere("app_fresh", primary.port() + " f")).isEqualTo(primary.port() + " f");
                assertThat(where("app_ro")).as("no lag limit there").isEqualTo(replica.port() + " t");
            } finally {
                st.execute("select pg_wal_replay_resume()");
            }
        }
        assertThat(awaitWhere("app_fresh", replica.port() + " t")).isEqualTo(replica.port() + " t");
    }

    @Test
    @Order(6)
    void aWrongHostInTheListIsLoggedAndSkipped() throws Exception {
        jar.await(l -> l.contains("host " + HOST + ":" + WRONG_PORT + " is unreachable now (was unknown)"),
                Duration.ofSeconds(10));
        for (int i = 0; i < 3; i++) {
            assertThat(where("app_wrong")).isEqualTo(primary.port() + " f");
        }
    }

    /**
     * A write refused with 25006 asks its host's role again at once: a second jar whose checks run only every 60 s
     * sees the primary turned read-only ({@code default_transaction_read_only}) within seconds of the refused write.
     */
    @Test
    @Order(7)
    void aRefusedWriteHasItsHostsRoleAskedAgainAtOnce() throws Exception {
        int slowPort = PackagedJar.freePort();
        String primaryHost = HOST + ":" + primary.port();
        try (PackagedJar.Running slow = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=" + HOST,
                "-Dpgferry.listen-port=" + slowPort, "-Dpgferry.auth.users-file=" + primary.usersFile(),
                "-Dpgferry.databases.\"app\".hosts=" + primaryHost + "," + HOST + ":" + replica.port(),
                "-Dpgferry.databases.\"app\".dbname=postgres", "-Dpgferry.health.role-check-interval=60s"),
                List.of(), "");
                Connection direct = primary.connect(PostgresFixture.SUPERUSER, "postgres");
                Statement admin = direct.createStatement()) {
            slow.await(l -> l.contains("started in"), Duration.ofSeconds(120));
            slow.await(l -> l.contains("host " + primaryHost + " is primary now"), Duration.ofSeconds(30));
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + slowPort + "/app",
                    "postgres", "secret"); Statement st = c.createStatement()) {
                st.execute("create table if not exists routed_writes (v int)");
                admin.execute("alter system set default_transaction_read_only = on");
                admin.execute("select pg_reload_conf()");
                try {
                    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                    SQLException refused = null;
                    while (refused == null && System.nanoTime() < deadline) {
                        try {
                            st.execute("insert into routed_writes values (3)"); // before the backend reloaded
                            Thread.sleep(50);
                        } catch (SQLException e) {
                            refused = e;
                        }
                    }
                    org.junit.jupiter.api.Assertions.assertNotNull(refused, "the write was refused (25006)");
                    assertThat(refused.getSQLState()).isEqualTo("25006");
                    long refusedAt = System.nanoTime();
                    slow.await(l -> l.contains("host " + primaryHost + " is read-only-primary now (was primary)"),
                            Duration.ofSeconds(10));
                    assertThat(Duration.ofNanos(System.nanoTime() - refusedAt)).as("long before the 60 s tick")
                            .isLessThan(Duration.ofSeconds(10));
                } finally {
                    admin.execute("alter system reset default_transaction_read_only");
                    admin.execute("select pg_reload_conf()");
                }
            }
        }
        // the shared jar, checking every second, writes on the primary again before the next test class
        assertThat(awaitWhere("app", primary.port() + " f")).isEqualTo(primary.port() + " f");
    }

    private static String appRe(String hosts, String more) {
        return "pgferry.databases.\"app_re\".hosts=" + hosts + "\npgferry.databases.\"app_re\".dbname=postgres\n"
                + more;
    }

    /**
     * RELOAD applies a changed host list and target role: new transactions go by the new list at once, a transaction
     * open across the RELOAD finishes on its backend, which is then closed; a broken list is refused, naming the key,
     * and the running one stays.
     */
    @Test
    @Order(8)
    void reloadAppliesAChangedHostListAndTargetRole() throws Exception {
        assertThat(where("app_re")).isEqualTo(primary.port() + " f");
        try (Connection held = connect("app_re"); Statement heldSt = held.createStatement();
                Connection admin = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port
                        + "/pgferry?preferQueryMode=simple", "postgres", "secret");
                Statement st = admin.createStatement()) {
            held.setAutoCommit(false);
            heldSt.execute("select 1");
            java.nio.file.Files.writeString(reloaded, appRe(HOST + ":" + primary.port() + "," + HOST + ":"
                    + replica.port(), "pgferry.databases.\"app_re\".target-role=standby\n"));
            st.execute("RELOAD");
            String notice = String.valueOf(st.getWarnings());
            assertThat(notice).contains("settings reloaded").contains("pgferry.databases.\"app_re\".hosts")
                    .contains("pgferry.databases.\"app_re\".target-role").contains("applied");
            assertThat(where("app_re")).as("a new transaction goes by the new list").isEqualTo(replica.port() + " t");
            try (ResultSet rs = heldSt.executeQuery("select inet_server_port()")) {
                rs.next();
                assertThat(rs.getInt(1)).as("the open transaction stays on its backend").isEqualTo(primary.port());
            }
            held.commit();
            try (ResultSet rs = heldSt.executeQuery("select inet_server_port()")) {
                rs.next();
                assertThat(rs.getInt(1)).as("its next transaction goes by the new list").isEqualTo(replica.port());
            }
            held.commit();
            String config = rows(st, "SHOW CONFIG", "key", "value");
            assertThat(config).contains("pgferry.databases.\"app_re\".hosts " + HOST + ":" + primary.port() + ","
                    + HOST + ":" + replica.port() + "\n").contains("pgferry.databases.\"app_re\".target-role standby\n");
            String servers = rows(st, "SHOW SERVERS", "database", "port");
            assertThat(servers).as("the backend opened over the old list is closed at its release")
                    .doesNotContain("app_re " + primary.port() + "\n");

            java.nio.file.Files.writeString(reloaded, appRe(HOST + ":not-a-port", ""));
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> st.execute("RELOAD"));
            assertThat(refused.getMessage()).contains("pgferry.databases.\"app_re\".hosts");
            assertThat(where("app_re")).as("the running list stays").isEqualTo(replica.port() + " t");
        }
    }

    /**
     * A users file of SCRAM verifiers only and no {@code health.check-user}, as the Kubernetes manifests recommend:
     * pgferry has no secret to ask the roles with, so it only sees that the hosts answer and stays ready. The first
     * client's login (its SCRAM proof gives the keys a backend accepts) is what the checks then log in as: the roles
     * are known within a check, and writes and reads go where they belong.
     */
    @Test
    @Order(20)
    void withScramVerifiersOnlyTheRolesAreAskedAsTheFirstClient() throws Exception {
        java.nio.file.Path users = java.nio.file.Files.createTempFile("pgferry-scram-only", ".txt");
        String verifier = primary.local().psql("select rolpassword from pg_authid where rolname = 'scram_u'").strip();
        assertThat(verifier).startsWith("SCRAM-SHA-256$");
        java.nio.file.Files.writeString(users, "\"scram_u\" \"" + verifier + "\"\n");
        int scramPort = PackagedJar.freePort();
        int scramHttp = PackagedJar.freePort();
        String hosts = primary.host() + ":" + primary.port() + "," + replica.host() + ":" + replica.port();
        try (PackagedJar.Running scramJar = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=" + HOST,
                "-Dpgferry.listen-port=" + scramPort, "-Dpgferry.auth.users-file=" + users,
                "-Dpgferry.backend.host=" + primary.host(), "-Dpgferry.backend.port=" + primary.port(),
                "-Dpgferry.databases.\"app\".hosts=" + hosts, "-Dpgferry.databases.\"app\".dbname=postgres",
                "-Dpgferry.databases.\"app_standby\".hosts=" + hosts,
                "-Dpgferry.databases.\"app_standby\".dbname=postgres",
                "-Dpgferry.databases.\"app_standby\".target-role=standby",
                "-Dpgferry.health.role-check-interval=1s", "-Dquarkus.http.port=" + scramHttp), List.of(), "")) {
            scramJar.await(l -> l.contains("started in"), Duration.ofSeconds(120));
            scramJar.await(l -> l.contains("host " + HOST + ":" + primary.port() + " is of unknown role now"),
                    Duration.ofSeconds(30));
            String ready = httpOn(scramHttp, "/q/health/ready");
            assertThat(ready).as(ready).startsWith("200 ")
                    .containsPattern(data("app", "UP, roles known at the first client's login: "));
            for (int i = 0; i < 3; i++) {
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + scramPort
                        + "/app", "scram_u", "scram_pw"); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("select inet_server_port(), pg_is_in_recovery()")) {
                    rs.next();
                    assertThat(rs.getInt(1) + " " + rs.getString(2)).isEqualTo(primary.port() + " f");
                }
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + scramPort
                        + "/app_standby", "scram_u", "scram_pw"); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("select inet_server_port(), pg_is_in_recovery()")) {
                    rs.next();
                    assertThat(rs.getInt(1) + " " + rs.getString(2)).isEqualTo(replica.port() + " t");
                }
            }
            assertThat(scramJar.lines()).anyMatch(l -> l.contains("host " + HOST + ":" + primary.port()
                    + " is primary now")).anyMatch(l -> l.contains("host " + HOST + ":" + replica.port()
                    + " is standby now"));
            assertThat(httpOn(scramHttp, "/q/health/ready")).startsWith("200 ")
                    .containsPattern(data("app", "UP: " + HOST + ":" + primary.port() + " primary"));
        } finally {
            java.nio.file.Files.deleteIfExists(users);
        }
    }

    /**
     * A database none of whose hosts has its role (target standby over the primary alone): the client waits in the
     * queue for the wait timeout, then gets 53300 naming the role; the wait was real, not an instant refusal.
     */
    @Test
    @Order(21)
    void noHostOfTheWantedRoleMakesTheClientWaitThenFail() throws Exception {
        int nonePort = PackagedJar.freePort();
        try (PackagedJar.Running noneJar = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=" + HOST,
                "-Dpgferry.listen-port=" + nonePort, "-Dpgferry.auth.users-file=" + primary.usersFile(),
                "-Dpgferry.backend.host=" + primary.host(), "-Dpgferry.backend.port=" + primary.port(),
                "-Dpgferry.databases.\"app_none\".hosts=" + primary.host() + ":" + primary.port(),
                "-Dpgferry.databases.\"app_none\".dbname=postgres",
                "-Dpgferry.databases.\"app_none\".target-role=standby", "-Dpgferry.pool.query-wait-timeout=2s",
                "-Dquarkus.http.port=0"), List.of(), "")) {
            noneJar.await(l -> l.contains("host " + HOST + ":" + primary.port() + " is primary now"),
                    Duration.ofSeconds(120));
            long t0 = System.nanoTime();
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + nonePort + "/app_none",
                            "postgres", "secret").close());
            long waited = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("53300");
            assertThat(waited).as("waited for the wait timeout").isGreaterThanOrEqualTo(1900);
            assertThat(noneJar.process.isAlive()).isTrue();
        }
    }

    /** An empty host list stops the start with one line naming the key, as PostgreSQL names a bad setting. */
    @Test
    @Order(22)
    void anEmptyHostListIsAStartupErrorNamingTheKey() throws Exception {
        try (PackagedJar.Running bad = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=" + HOST,
                "-Dpgferry.listen-port=" + PackagedJar.freePort(), "-Dpgferry.auth.users-file=" + primary.usersFile(),
                "-Dpgferry.databases.\"app_empty\".hosts=,", "-Dquarkus.http.port=0"), List.of(), "")) {
            assertThat(bad.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the start ends").isTrue();
            assertThat(bad.process.exitValue()).isNotZero();
            assertThat(String.join("\n", bad.lines())).contains("pgferry.databases.\"app_empty\".hosts");
        }
    }

    private static String httpOn(int onPort, String path) throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + HOST + ":" + onPort + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    /** The readiness data entry of {@code database}, starting with {@code text}, whatever the JSON's spacing. */
    private static String data(String database, String text) {
        return java.util.regex.Pattern.quote("\"database " + database + "\"") + "\\s*:\\s*"
                + java.util.regex.Pattern.quote("\"" + text);
    }

    /** The named columns of each row, space-separated, one row a line. */
    private static String rows(Statement st, String sql, String... columns) throws SQLException {
        StringBuilder b = new StringBuilder();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                for (String c : columns) {
                    b.append(rs.getString(c)).append(c.equals(columns[columns.length - 1]) ? "\n" : " ");
                }
            }
        }
        return b.toString();
    }

    /** {@code status body} of a GET on pgferry's HTTP port. */
    private static String http(String path) throws Exception {
        return httpOn(httpPort, path);
    }

    private static String awaitHttp(String path, String prefix) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String last = http(path);
        while (!last.startsWith(prefix) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            last = http(path);
        }
        return last;
    }
}
