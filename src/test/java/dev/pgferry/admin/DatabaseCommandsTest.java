package dev.pgferry.admin;

import static dev.pgferry.admin.AdminConsoleRows.rows;
import static dev.pgferry.admin.AdminSql.assertError;
import static dev.pgferry.admin.AdminSql.count;
import static dev.pgferry.admin.AdminSql.exec;
import static dev.pgferry.admin.AdminSql.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.auth.ScramClient;
import dev.pgferry.observability.PrometheusText;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PgBouncer's database commands on the console: SHOW DATABASES, DISABLE/ENABLE, KILL and RECONNECT, each seen from
 * the admin user, the clients of the database it concerns and those of another database.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(DatabaseCommandsProfile.class)
class DatabaseCommandsTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ConfigProperty(name = "pgferry.backend.host")
    String backendHost;

    @ConfigProperty(name = "pgferry.backend.port")
    int backendPort;

    @AfterEach
    void enableAndResumeEverything() throws SQLException {
        try (Connection admin = admin()) {
            for (String db : List.of("bench", "postgres")) {
                if (database(admin, db).map(r -> r.get("disabled").equals("1")).orElse(false)) {
                    exec(admin, "ENABLE " + db);
                }
            }
            if (rows(admin, "SHOW DATABASES").stream().anyMatch(r -> r.get("paused").equals("1"))) {
                exec(admin, "RESUME");
            }
        }
    }

    @Test
    void showDatabasesHasPgBouncersColumnsAndEachDatabasesSettingsAndCounts() throws Exception {
        try (Connection admin = admin(); Connection aliased = connect("scram_u", "aliased");
                Connection bench = connect("scram_u", "bench")) {
            assertThat(one(aliased, "select current_database()")).isEqualTo("bench");
            assertThat(one(bench, "select 1")).isEqualTo("1");
            try (Statement st = admin.createStatement(); ResultSet rs = st.executeQuery("SHOW DATABASES")) {
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    columns.add(rs.getMetaData().getColumnName(i));
                }
                assertThat(columns).containsExactly("name", "host", "port", "database", "force_user", "pool_size",
                        "min_pool_size", "reserve_pool_size", "server_lifetime", "pool_mode", "load_balance_hosts",
                        "max_connections", "current_connections", "max_client_connections",
                        "current_client_connections", "paused", "disabled");
            }
            List<Map<String, String>> all = rows(admin, "SHOW DATABASES");
            assertThat(all).extracting(r -> r.get("name")).isSorted().contains("aliased", "bench", "pgferry");

            Map<String, String> configured = database(admin, "aliased").orElseThrow();
            assertThat(configured).containsEntry("host", backendHost)
                    .containsEntry("port", Integer.toString(backendPort)).containsEntry("database", "bench")
                    .containsEntry("force_user", null).containsEntry("pool_size", "3")
                    .containsEntry("min_pool_size", "0").containsEntry("reserve_pool_size", "2")
                    .containsEntry("server_lifetime", "3600").containsEntry("pool_mode", "session")
                    .containsEntry("load_balance_hosts", null).containsEntry("max_connections", "0")
                    .containsEntry("current_connections", "1").containsEntry("max_client_connections", "0")
                    .containsEntry("current_client_connections", "1").containsEntry("paused", "0")
                    .containsEntry("disabled", "0");
            // a database of the default backend: the global pool size, no mode of its own (NULL, as PgBouncer)
            Map<String, String> byDefault = database(admin, "bench").orElseThrow();
            assertThat(byDefault).containsEntry("host", backendHost).containsEntry("database", "bench")
                    .containsEntry("pool_size", "20").containsEntry("pool_mode", null)
                    .containsEntry("current_client_connections", "1");
            assertThat(Integer.parseInt(byDefault.get("current_connections"))).isPositive();
            assertThat(database(admin, "pgferry").orElseThrow()).containsEntry("host", null)
                    .containsEntry("port", Integer.toString(port)).containsEntry("database", "pgferry")
                    .containsEntry("pool_mode", "statement").containsEntry("paused", "0");
            // the console's own clients; eventually: an earlier test's console connection may still be closing
            assertThat(eventually(() -> consoleClients(admin).equals("1"))).isTrue();
            try (Connection second = admin()) {
                assertThat(consoleClients(second)).isEqualTo("2");
            }
            assertThatThrownBy(() -> exec(admin, "SHOW DATABASES x")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42601"));
        }
    }

    @Test
    void disableRefusesNewLoginsWithPgBouncersErrorWhileLoggedInClientsGoOn() throws Exception {
        try (Connection admin = admin(); Connection existing = connect("scram_u", "bench");
                Connection elsewhere = connect("postgres", "postgres")) {
            assertThat(one(existing, "select 1")).isEqualTo("1");
            assertThat(exec(admin, "DISABLE bench")).isFalse();
            assertThat(database(admin, "bench").orElseThrow()).containsEntry("disabled", "1");

            double refusals = limitRefusals();
            assertThatThrownBy(() -> connect("scram_u", "bench")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08P01");
                assertThat(e.getMessage()).isEqualTo("FATAL: database does not allow connections: bench");
            });
            assertThat(limitRefusals()).as("counted as a limit refusal").isEqualTo(refusals + 1);
            assertThat(one(existing, "select 2")).as("a logged-in client keeps working").isEqualTo("2");
            assertThat(one(elsewhere, "select 3")).isEqualTo("3");
            try (Connection other = connect("postgres", "postgres")) {
                assertThat(one(other, "select 4")).as("another database takes logins").isEqualTo("4");
            }

            exec(admin, "ENABLE bench");
            assertThat(database(admin, "bench").orElseThrow()).containsEntry("disabled", "0");
            try (Connection again = connect("scram_u", "bench")) {
                assertThat(one(again, "select 5")).isEqualTo("5");
            }
        }
    }

    @Test
    void aLoginAuthenticatingWhenItsDatabaseIsDisabledGetsPgBouncersSecondError() throws Exception {
        try (Connection admin = admin(); RawWireClient c = RawWireClient.connect("127.0.0.1", port).timeout(5_000)) {
            c.send(RawWireClient.startupMessage("user", "scram_u", "database", "bench"));
            RawWireClient.Msg sasl = c.read();
            assertThat(ByteBuffer.wrap(sasl.body()).getInt()).as("AuthenticationSASL").isEqualTo(10);
            exec(admin, "DISABLE bench");

            ScramClient scram = ScramClient.withPassword("scram_u", "scram_pw");
            byte[] first = scram.clientFirstMessage();
            c.send(RawWireClient.message('p', RawWireClient.concat(RawWireClient.cstring("SCRAM-SHA-256"),
                    ByteBuffer.allocate(4).putInt(first.length).array(), first)));
            RawWireClient.Msg cont = c.read();
            c.send(RawWireClient.message('p',
                    scram.handleServerFirst(Arrays.copyOfRange(cont.body(), 4, cont.body().length))));
            assertThat(ByteBuffer.wrap(c.read().body()).getInt()).as("SASLFinal").isEqualTo(12);
            RawWireClient.Msg error = c.read();
            assertThat((char) error.type()).isEqualTo('E');
            assertThat(error.field('S')).isEqualTo("FATAL");
            assertThat(error.field('C')).isEqualTo("08P01");
            assertThat(error.field('M')).isEqualTo("database \"bench\" is disabled");
            assertThat(c.read()).as("closed").isEqualTo(RawWireClient.Msg.EOF);
        }
    }

    @Test
    void disableAndEnableAnswerPgBouncersErrors() throws Exception {
        try (Connection admin = admin()) {
            assertError(admin, "DISABLE", "42601", "a database is required");
            assertError(admin, "ENABLE", "42601", "a database is required");
            assertError(admin, "ENABLE nosuchdb", "3D000", "no such database: nosuchdb");
            assertError(admin, "DISABLE pgferry", "0A000", "cannot disable admin db: pgferry");
            assertError(admin, "ENABLE pgferry", "0A000", "cannot enable admin db: pgferry");
            // any name is a database of the default backend (PgBouncer's "*"): DISABLE registers it
            exec(admin, "DISABLE \"notyet\"");
            assertThat(database(admin, "notyet").orElseThrow()).containsEntry("disabled", "1")
                    .containsEntry("database", "notyet").containsEntry("current_connections", "0");
            exec(admin, "ENABLE notyet");
            assertThat(database(admin, "notyet").orElseThrow()).containsEntry("disabled", "0");
        }
    }

    @Test
    void killDropsEveryClientAndServerOfTheDatabaseAndKeepsItPausedUntilResume() throws Exception {
        try (Connection admin = admin(); Connection holder = connect("scram_u", "bench");
                Connection idle = connect("scram_u", "bench"); Connection elsewhere = connect("postgres", "postgres");
                Connection direct = direct()) {
            holder.setAutoCommit(false);
            String held = one(holder, "select pg_backend_pid()"); // inside a transaction, kept open
            String returned = one(idle, "select pg_backend_pid()"); // its backend went back to the pool
            assertThat(held).isNotEqualTo(returned);
            String otherPid = one(elsewhere, "select pg_backend_pid()");

            assertThat(exec(admin, "KILL bench")).isFalse();

            for (Connection killed : List.of(holder, idle)) {
                assertThatThrownBy(() -> one(killed, "select 1")).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("08P01");
                    assertThat(e.getMessage()).isEqualTo("FATAL: database removed");
                });
            }
            assertThat(eventually(() -> count(direct, "select count(*) from pg_stat_activity where pid in ("
                    + held + "," + returned + ")") == 0)).as("both backends closed").isTrue();
            assertThat(one(elsewhere, "select pg_backend_pid()")).as("another database is untouched")
                    .isEqualTo(otherPid);
            Map<String, String> bench = database(admin, "bench").orElseThrow();
            assertThat(bench).containsEntry("paused", "1").containsEntry("current_connections", "0")
                    .containsEntry("current_client_connections", "0");

            // a new login waits until RESUME, as on PgBouncer, where the killed pool is gone with its welcome message
            CompletableFuture<String> login = CompletableFuture.supplyAsync(() -> {
                try (Connection c = connect("scram_u", "bench")) {
                    return one(c, "select 'served'");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(1500);
            assertThat(login).as("login held while the database is paused").isNotDone();
            exec(admin, "RESUME bench");
            assertThat(login.get(5, TimeUnit.SECONDS)).isEqualTo("served");
        }
    }

    @Test
    void killAnswersPgBouncersErrors() throws Exception {
        try (Connection admin = admin(); Connection c = connect("postgres", "postgres")) {
            assertThat(one(c, "select 1")).isEqualTo("1");
            assertError(admin, "KILL pgferry", "0A000", "cannot kill admin db: pgferry");
            assertError(admin, "KILL a b", "42601", "KILL takes at most one database name");
            exec(admin, "PAUSE");
            assertError(admin, "KILL bench", "55000", "already suspended/paused");
            exec(admin, "RESUME");
            assertThat(one(c, "select 2")).as("nothing was killed").isEqualTo("2");
        }
    }

    @Test
    void killWithoutANameDropsTheClientsOfEveryDatabaseAndPausesEach() throws Exception {
        try (Connection admin = admin(); Connection a = connect("postgres", "postgres");
                Connection b = connect("scram_u", "bench")) {
            assertThat(one(a, "select 1")).isEqualTo("1");
            assertThat(one(b, "select 1")).isEqualTo("1");
            assertThat(exec(admin, "KILL")).isFalse();
            for (Connection killed : List.of(a, b)) {
                assertThatThrownBy(() -> one(killed, "select 1")).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getMessage()).isEqualTo("FATAL: database removed"));
            }
            assertThat(database(admin, "postgres").orElseThrow()).containsEntry("paused", "1");
            assertThat(database(admin, "bench").orElseThrow()).containsEntry("paused", "1");
            assertThat(database(admin, "pgferry").orElseThrow()).containsEntry("paused", "0");
            assertThat(rows(admin, "SHOW VERSION")).as("the console is not killed").hasSize(1);
            exec(admin, "RESUME");
            try (Connection c = connect("postgres", "postgres")) {
                assertThat(one(c, "select 2")).isEqualTo("2");
            }
        }
    }

    @Test
    void reconnectClosesEachBackendOnceReleasedWithoutDisturbingAnyClient() throws Exception {
        try (Connection admin = admin(); Connection holder = connect("scram_u", "bench");
                Connection other = connect("scram_u", "bench"); Connection elsewhere = connect("postgres", "postgres");
                Connection direct = direct()) {
            holder.setAutoCommit(false);
            String held = one(holder, "select pg_backend_pid()");
            String xid = one(holder, "select txid_current()");
            String idleBefore = one(other, "select pg_backend_pid()");
            String elsewhereBefore = one(elsewhere, "select pg_backend_pid()");

            assertThat(exec(admin, "RECONNECT bench")).isFalse();

            assertThat(eventually(() -> count(direct, "select count(*) from pg_stat_activity where pid = "
                    + idleBefore) == 0)).as("the idle backend is closed at once").isTrue();
            assertThat(count(direct, "select count(*) from pg_stat_activity where pid = " + held))
                    .as("the backend in a transaction is left alone").isEqualTo(1);
            assertThat(one(holder, "select pg_backend_pid()")).isEqualTo(held);
            assertThat(one(holder, "select txid_current()")).as("the same transaction goes on").isEqualTo(xid);
            holder.commit();
            assertThat(eventually(() -> count(direct, "select count(*) from pg_stat_activity where pid = " + held)
                    == 0)).as("closed once released").isTrue();

            String next = one(other, "select pg_backend_pid()");
            assertThat(next).as("the next transaction runs on a new server process").isNotIn(held, idleBefore);
            assertThat(one(holder, "select pg_backend_pid()")).isNotIn(held, idleBefore);
            holder.commit();
            try (Connection fresh = connect("scram_u", "bench")) {
                assertThat(one(fresh, "show server_version")).as("a login welcomed with the parameters learned again")
                        .isEqualTo(one(direct, "show server_version"));
            }
            assertThat(one(elsewhere, "select pg_backend_pid()")).as("another database keeps its backend")
                    .isEqualTo(elsewhereBefore);

            // without a name: every database
            assertThat(exec(admin, "RECONNECT")).isFalse();
            assertThat(eventually(() -> count(direct, "select count(*) from pg_stat_activity where pid = "
                    + elsewhereBefore) == 0)).isTrue();
            assertThat(one(elsewhere, "select pg_backend_pid()")).isNotEqualTo(elsewhereBefore);
            assertError(admin, "RECONNECT pgferry", "0A000", "cannot reconnect admin db: pgferry");
        }
    }

    // --- helpers ---

    private Connection connect(String user, String database) throws SQLException {
        String password = Map.of("postgres", "secret", "scram_u", "scram_pw").get(user);
        return ThroughPgferry.connect(port, user, password, database, true);
    }

    private Connection admin() throws SQLException {
        return ThroughPgferry.admin(port);
    }

    private static Connection direct() throws SQLException {
        return PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres");
    }

    private static java.util.Optional<Map<String, String>> database(Connection admin, String name)
            throws SQLException {
        return rows(admin, "SHOW DATABASES").stream().filter(r -> r.get("name").equals(name)).findFirst();
    }

    private static String consoleClients(Connection admin) {
        try {
            return database(admin, "pgferry").orElseThrow().get("current_client_connections");
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }

    private static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        return ThroughPgferry.eventually(Duration.ofSeconds(5), condition);
    }

    /** pgferry_login_refusals_total{reason="limit"} now. */
    private static double limitRefusals() {
        return new PrometheusText(io.restassured.RestAssured.given().when().get("/q/metrics").then().statusCode(200)
                .extract().asString()).value("pgferry_login_refusals_total", java.util.Map.of("reason", "limit"));
    }
}
