package dev.pgferry.admin;

import static dev.pgferry.admin.AdminConsoleRows.pool;
import static dev.pgferry.admin.AdminConsoleRows.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.auth.ScramClient;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PAUSE as PgBouncer's: it answers once every transaction of the paused database has ended and its server
 * connections are closed; clients stay connected and their new transactions wait until RESUME.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(PauseProfile.class)
class PauseTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @AfterEach
    void resumeEverything() throws SQLException {
        try (Connection admin = admin(); Statement a = admin.createStatement()) {
            a.execute("RESUME");
        } catch (SQLException e) {
            if (!"55000".equals(e.getSQLState())) { // nothing left paused
                throw e;
            }
        }
    }

    @Test
    void pauseAnswersOnlyAfterTheOpenTransactionEndsAndClosesEveryBackend() throws Exception {
        try (Connection holder = connect("scram_u", "bench", false); Connection other = connect("scram_u", "bench", false);
                Connection admin = admin(); Connection watcher = admin(); Connection direct = direct()) {
            holder.setAutoCommit(false);
            assertThat(one(holder, "select 1")).isEqualTo("1"); // BEGIN; SELECT 1, held open
            assertThat(one(other, "select 2")).isEqualTo("2"); // a second backend, idle after this
            Set<String> pids = serverPids(watcher, "bench", "scram_u");
            assertThat(pids).hasSizeGreaterThanOrEqualTo(2);

            CompletableFuture<List<String>> pause = execute(admin, "PAUSE bench");
            Thread.sleep(1000);
            assertThat(pause).as("PAUSE waits for the open transaction").isNotDone();
            // the console still serves other connections meanwhile; the idle backend is already closed
            assertThat(eventually(() -> pool(watcher, "bench", "scram_u").get("sv_idle").equals("0")))
                    .isTrue();
            Map<String, String> during = pool(watcher, "bench", "scram_u");
            assertThat(during.get("paused")).isEqualTo("1");
            assertThat(during.get("sv_active")).isEqualTo("1");

            holder.commit();
            assertThat(pause.get(3, TimeUnit.SECONDS)).anyMatch(w -> w.contains("database \"bench\" paused"));
            Map<String, String> after = pool(watcher, "bench", "scram_u");
            assertThat(after.get("paused")).isEqualTo("1");
            assertThat(after.get("sv_active")).isEqualTo("0");
            assertThat(after.get("sv_idle")).isEqualTo("0");
            assertThat(after.get("sv_login")).isEqualTo("0");
            assertThat(serverPids(watcher, "bench", "scram_u")).isEmpty();
            String pidList = String.join(",", pids);
            assertThat(eventually(() -> count(direct,
                    "select count(*) from pg_stat_activity where pid in (" + pidList + ")") == 0))
                    .as("the server has none of the pool's backends left").isTrue();
            assertThat(eventually(() -> count(direct, "select count(*) from pg_stat_activity"
                    + " where usename = 'scram_u' and datname = 'bench'") == 0))
                    .as("no backend of scram_u on bench at all (health checks use another database)").isTrue();

            execute(admin, "RESUME bench").get(5, TimeUnit.SECONDS);
            assertThat(one(holder, "select 3")).as("the client stayed connected").isEqualTo("3");
            holder.commit();
        }
    }

    @Test
    void whilePausedANewTransactionWaitsAndRunsAfterResumeOnAFreshBackend() throws Exception {
        try (Connection admin = admin(); Connection early = connect("scram_u", "bench", true)) {
            assertThat(one(early, "select 1")).isEqualTo("1");
            Set<String> before = serverPids(admin, "bench", "scram_u");
            execute(admin, "PAUSE bench").get(5, TimeUnit.SECONDS);
            // pgjdbc's own SET at login is a first transaction already: the connection and its query both wait
            CompletableFuture<String> tx = CompletableFuture.supplyAsync(() -> {
                try (Connection late = connect("scram_u", "bench", true)) {
                    return one(late, "select 42");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThatThrownBy(() -> tx.get(1500, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(pool(admin, "bench", "scram_u").get("cl_waiting")).isEqualTo("1");
            execute(admin, "RESUME bench").get(5, TimeUnit.SECONDS);
            assertThat(tx.get(5, TimeUnit.SECONDS)).isEqualTo("42");
            assertThat(one(early, "select 2")).isEqualTo("2");
            Set<String> now = serverPids(admin, "bench", "scram_u");
            assertThat(now).isNotEmpty().doesNotContainAnyElementsOf(before);
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("0");
        }
    }

    @Test
    void pauseOutwaitedByATransactionAnswersAnErrorNamingThePoolAndStaysInEffect() throws Exception {
        try (Connection holder = connect("scram_u", "bench", false); Connection admin = admin()) {
            holder.setAutoCommit(false);
            assertThat(one(holder, "select 1")).isEqualTo("1");
            long start = System.nanoTime();
            CompletableFuture<List<String>> pause = execute(admin, "PAUSE bench");
            assertThatThrownBy(() -> pause.get(PauseProfile.PAUSE_TIMEOUT_SECONDS + 5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("57014");
                        assertThat(e.getMessage()).contains("timed out", "\"bench/scram_u\" (1 active",
                                "stays paused");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .isGreaterThanOrEqualTo(Duration.ofSeconds(PauseProfile.PAUSE_TIMEOUT_SECONDS));
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("1");

            holder.commit(); // the transaction ends after the timeout: its backend is closed, not parked
            assertThat(eventually(() -> pool(admin, "bench", "scram_u").get("sv_idle").equals("0")
                    && pool(admin, "bench", "scram_u").get("sv_active").equals("0"))).isTrue();
            execute(admin, "RESUME bench").get(5, TimeUnit.SECONDS);
            assertThat(one(holder, "select 2")).isEqualTo("2");
            holder.commit();
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("0");
        }
    }

    @Test
    void resumeEndsAPendingPauseWithAnError() throws Exception {
        try (Connection holder = connect("scram_u", "bench", false); Connection admin = admin();
                Connection other = admin()) {
            holder.setAutoCommit(false);
            one(holder, "select 1");
            CompletableFuture<List<String>> pause = execute(admin, "PAUSE bench");
            Thread.sleep(500);
            execute(other, "RESUME bench").get(5, TimeUnit.SECONDS);
            assertThatThrownBy(() -> pause.get(5, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("57014");
                        assertThat(e.getMessage()).contains("ended by RESUME");
                    });
            assertThat(one(holder, "select 2")).isEqualTo("2");
            holder.commit();
        }
    }

    @Test
    void pauseOfOneDatabaseLeavesAnotherDatabasesClientsAlone() throws Exception {
        try (Connection busy = connect("scram_u", "postgres", false); Connection free = connect("scram_u", "postgres", true);
                Connection admin = admin()) {
            busy.setAutoCommit(false);
            assertThat(one(busy, "select 1")).isEqualTo("1"); // a transaction open on postgres does not hold up PAUSE bench
            execute(admin, "PAUSE bench").get(3, TimeUnit.SECONDS);
            long start = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                assertThat(one(free, "select " + i)).isEqualTo(Integer.toString(i));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            assertThat(one(busy, "select 2")).isEqualTo("2");
            busy.commit();
            Map<String, String> p = pool(admin, "postgres", "scram_u");
            assertThat(p.get("paused")).isEqualTo("0");
            assertThat(Integer.parseInt(p.get("sv_active")) + Integer.parseInt(p.get("sv_idle"))).isPositive();
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("1");
        }
    }

    @Test
    void pauseOfAllDatabasesLetsTheOpenTransactionFinishHoldsNewOnesAndResumeReleasesThem() throws Exception {
        try (Connection holder = connect("scram_u", "postgres", false); Connection idle = connect("scram_u", "bench", true);
                Connection admin = admin(); Connection watcher = admin()) {
            assertThat(one(idle, "select 1")).isEqualTo("1");
            holder.setAutoCommit(false);
            assertThat(one(holder, "select 1")).isEqualTo("1"); // BEGIN; SELECT 1, held open
            CompletableFuture<List<String>> pause = execute(admin, "PAUSE");
            Thread.sleep(500);
            assertThat(pause).as("PAUSE waits for the open transaction").isNotDone();
            long start = System.nanoTime();
            assertThat(one(holder, "select 2")).as("the transaction in flight goes on").isEqualTo("2");
            holder.commit();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            assertThat(pause.get(3, TimeUnit.SECONDS)).anyMatch(w -> w.contains("all databases paused"));
            assertThat(rows(watcher, "SHOW POOLS")).isNotEmpty()
                    .allSatisfy(p -> assertThat(p).containsEntry("paused", "1").containsEntry("sv_active", "0")
                            .containsEntry("sv_idle", "0"));

            CompletableFuture<String> onBench = CompletableFuture.supplyAsync(() -> oneUnchecked(idle, "select 42"));
            CompletableFuture<String> onPostgres =
                    CompletableFuture.supplyAsync(() -> oneUnchecked(holder, "select 43"));
            assertThatThrownBy(() -> CompletableFuture.anyOf(onBench, onPostgres).get(1500, TimeUnit.MILLISECONDS))
                    .as("new transactions wait, on every database").isInstanceOf(TimeoutException.class);
            assertThat(pool(watcher, "bench", "scram_u").get("cl_waiting")).isEqualTo("1");
            assertThat(pool(watcher, "postgres", "scram_u").get("cl_waiting")).isEqualTo("1");

            assertThat(execute(watcher, "RESUME").get(5, TimeUnit.SECONDS))
                    .anyMatch(w -> w.contains("all databases resumed"));
            assertThat(onBench.get(5, TimeUnit.SECONDS)).isEqualTo("42");
            assertThat(onPostgres.get(5, TimeUnit.SECONDS)).isEqualTo("43");
            holder.commit();
        }
    }

    @Test
    void aSecondPauseOfAPausedDatabaseAnswersAsTheFirstAndOneResumeEndsIt() throws Exception {
        try (Connection admin = admin(); Connection c = connect("scram_u", "bench", true)) {
            assertThat(one(c, "select 1")).isEqualTo("1");
            assertThat(execute(admin, "PAUSE bench").get(5, TimeUnit.SECONDS))
                    .anyMatch(w -> w.contains("database \"bench\" paused"));
            assertThat(execute(admin, "pause bench").get(5, TimeUnit.SECONDS))
                    .anyMatch(w -> w.contains("database \"bench\" paused"));
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("1");
            execute(admin, "RESUME bench").get(5, TimeUnit.SECONDS);
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("0");
            assertThat(one(c, "select 2")).isEqualTo("2");
        }
    }

    @Test
    void pauseOfADatabaseWithoutAPoolAnswersAtOnceAndItsFirstClientWaitsUntilResume() throws Exception {
        // every database name reaches the default backend (PgBouncer's "* ="): there is no unknown database to
        // refuse, as PgBouncer with an auto-database answers too; the pool made later starts paused
        try (Connection admin = admin()) {
            assertThat(rows(admin, "SHOW POOLS")).noneMatch(p -> p.get("database").equals("template1"));
            assertThat(execute(admin, "PAUSE template1").get(2, TimeUnit.SECONDS))
                    .anyMatch(w -> w.contains("database \"template1\" paused: 0 pools"));
            CompletableFuture<String> late = CompletableFuture.supplyAsync(() -> {
                try (Connection c = connect("scram_u", "template1", true)) {
                    return one(c, "select current_database()");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThatThrownBy(() -> late.get(1500, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(pool(admin, "template1", "scram_u")).containsEntry("paused", "1")
                    .containsEntry("cl_waiting", "1");
            execute(admin, "RESUME template1").get(5, TimeUnit.SECONDS);
            assertThat(late.get(5, TimeUnit.SECONDS)).isEqualTo("template1");
        }
    }

    /** SHOW CLIENTS rows of the database. */
    private static List<Map<String, String>> clientsOf(Connection admin, String database) {
        try {
            return rows(admin, "SHOW CLIENTS").stream().filter(r -> database.equals(r.get("database"))).toList();
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }

    /**
     * As PgBouncer's SHOW CLIENTS: a client still authenticating is not listed (PgBouncer keeps it in login_client_list,
     * shown by SHOW SOCKETS only); once authenticated, a client whose login waits for its pool's first backend (here
     * held by PAUSE of its database) is, 'waiting' with no link (PgBouncer's CL_WAITING_LOGIN, in the pool's
     * waiting_client_list), until it leaves.
     */
    @Test
    void aClientWhoseLoginWaitsForItsPoolIsListedWaitingUntilItLeaves() throws Exception {
        String db = "login_waits_for_pool"; // no pool has it: its first client must learn the server's parameters
        try (Connection admin = admin()) {
            assertThat(execute(admin, "PAUSE " + db).get(2, TimeUnit.SECONDS))
                    .anyMatch(w -> w.contains("database \"" + db + "\" paused: 0 pools"));
            RawWireClient c = RawWireClient.connect("127.0.0.1", port).timeout(5_000);
            try {
                c.send(RawWireClient.startupMessage("user", "scram_u", "database", db));
                RawWireClient.Msg sasl = c.read();
                assertThat(sasl.type()).isEqualTo('R');
                assertThat(java.nio.ByteBuffer.wrap(sasl.body()).getInt()).as("AuthenticationSASL").isEqualTo(10);
                assertThat(clientsOf(admin, db)).as("authenticating: not listed").isEmpty();

                ScramClient scram = ScramClient.withPassword("scram_u", "scram_pw");
                byte[] first = scram.clientFirstMessage();
                c.send(RawWireClient.message('p', RawWireClient.concat(RawWireClient.cstring("SCRAM-SHA-256"),
                        java.nio.ByteBuffer.allocate(4).putInt(first.length).array(), first)));
                RawWireClient.Msg cont = c.read();
                assertThat(java.nio.ByteBuffer.wrap(cont.body()).getInt()).as("SASLContinue").isEqualTo(11);
                c.send(RawWireClient.message('p',
                        scram.handleServerFirst(java.util.Arrays.copyOfRange(cont.body(), 4, cont.body().length))));
                RawWireClient.Msg fin = c.read();
                assertThat(java.nio.ByteBuffer.wrap(fin.body()).getInt()).as("SASLFinal").isEqualTo(12);

                assertThat(eventually(() -> clientsOf(admin, db).size() == 1)).as("listed once authenticated").isTrue();
                Map<String, String> row = clientsOf(admin, db).get(0);
                assertThat(row).containsEntry("type", "C").containsEntry("user", "scram_u")
                        .containsEntry("database", db).containsEntry("state", "waiting")
                        .containsEntry("addr", "127.0.0.1").containsEntry("link", null);
                assertThat(row.get("port")).isEqualTo(Integer.toString(c.localPort()));
                assertThat(row.get("connect_time")).isNotBlank();
                assertThat(row.get("id")).startsWith("C-");
                assertThat(pool(admin, db, "scram_u")).containsEntry("cl_waiting", "1");
            } finally {
                c.drop();
            }
            assertThat(eventually(() -> clientsOf(admin, db).isEmpty())).as("gone when the client left").isTrue();
        }
    }

    @Test
    void resumeOfWhatIsNotPausedIsAnErrorAsOnPgBouncer() throws Exception {
        try (Connection admin = admin()) {
            assertThatThrownBy(() -> execute(admin, "RESUME").get(5, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("55000");
                        assertThat(e.getMessage()).isEqualTo("ERROR: no database is paused");
                    });
            execute(admin, "PAUSE bench").get(5, TimeUnit.SECONDS);
            assertThatThrownBy(() -> execute(admin, "RESUME bnech").get(5, TimeUnit.SECONDS))
                    .as("a mistyped name does not pass for a RESUME").cause()
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("55000");
                        assertThat(e.getMessage()).isEqualTo("ERROR: database \"bnech\" is not paused");
                    });
            assertThat(pool(admin, "bench", "scram_u").get("paused")).isEqualTo("1");
            execute(admin, "RESUME bench").get(5, TimeUnit.SECONDS);
            assertThatThrownBy(() -> execute(admin, "RESUME bench").get(5, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("55000");
                        assertThat(e.getMessage()).isEqualTo("ERROR: database \"bench\" is not paused");
                    });
            assertThat(rows(admin, "SHOW VERSION")).as("the console still answers").hasSize(1);
        }
    }

    @Test
    void pauseOfTheAdminConsoleDatabaseIsRefused() throws Exception {
        try (Connection admin = admin()) {
            assertThatThrownBy(() -> execute(admin, "PAUSE pgferry").get(5, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).isEqualTo("ERROR: cannot pause the admin console database \"pgferry\"");
                    });
            assertThatThrownBy(() -> execute(admin, "RESUME").get(5, TimeUnit.SECONDS)).as("nothing was paused")
                    .cause().isInstanceOfSatisfying(SQLException.class,
                            e -> assertThat(e.getSQLState()).isEqualTo("55000"));
        }
    }

    // --- helpers ---

    private Connection connect(String user, String database, boolean simpleProtocol) throws SQLException {
        String password = Map.of("postgres", "secret", "scram_u", "scram_pw").get(user);
        return ThroughPgferry.connect(port, user, password, database, simpleProtocol);
    }

    private Connection admin() throws SQLException {
        return ThroughPgferry.admin(port);
    }

    private static Connection direct() throws SQLException {
        return PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres");
    }

    /** Runs an admin command on another thread; its NOTICE messages, or the SQLException as the failure. */
    private static CompletableFuture<List<String>> execute(Connection admin, String command) {
        return CompletableFuture.supplyAsync(() -> {
            try (Statement st = admin.createStatement()) {
                st.execute(command);
                List<String> out = new ArrayList<>();
                for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
                    out.add(w.getMessage());
                }
                return out;
            } catch (SQLException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String oneUnchecked(Connection c, String sql) {
        try {
            return one(c, sql);
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }

    private static long count(Connection c, String sql) {
        try {
            return Long.parseLong(one(c, sql));
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }

    /** The server pids of the pool's backends, from SHOW SERVERS. */
    private static Set<String> serverPids(Connection admin, String database, String user) throws SQLException {
        return rows(admin, "SHOW SERVERS").stream()
                .filter(r -> r.get("database").equals(database) && r.get("user").equals(user))
                .map(r -> r.get("remote_pid")).collect(Collectors.toSet());
    }

    private static boolean eventually(java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        return ThroughPgferry.eventually(Duration.ofSeconds(5), condition);
    }
}
