package dev.pgferry.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.server.ProxyServer;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

/**
 * A cancel that arrives while pgferry brings a just-leased backend to the client's parameters (RESTORING), before any
 * of the client's request reached the server. The pool has one backend, which B (the server's defaults) uses last and
 * A (parameters of its own) then leases, so A's lease starts with a restore; the {@link FaultProxy} delays the
 * server's replies to plain_u's backend, so the restore's answer is slow and the cancel lands inside it every time.
 */
@QuarkusTest
@WithTestResource(FaultProxyResource.class)
@TestProfile(OneBackendProfile.class)
class CancelDuringRestoreTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Inject
    ProxyServer server;

    static FaultProxy proxy;

    static final String USER = "plain_u";
    static final String PASSWORD = "plain_pw";
    static final String DB = "postgres";
    /** How long the proxy holds each reply of the server to plain_u: the restore's answer among them. */
    static final int LATENCY_MILLIS = 1500;
    static final String CANCELED = "canceling statement due to user request";
    static final Msg CANCELED_ERROR = new Msg('E',
            ("SERROR\0VERROR\0C57014\0M" + CANCELED + "\0\0").getBytes(StandardCharsets.UTF_8));
    static final Msg READY_IDLE = new Msg('Z', new byte[] {'I'});
    static final String A_SEARCH_PATH = "pg_catalog, public";
    final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeAll
    static void startProxy() throws Exception {
        proxy = FaultProxy.inFrontOfFixture();
    }

    @AfterAll
    static void stopProxy() throws Exception {
        FaultProxy.stop(proxy);
    }

    @AfterEach
    void heal() {
        proxy.latencyForUser(USER, 0);
        threads.shutdownNow();
    }

    /**
     * A's startup parameters: an application_name of its own in each test (so no backend is already at them, as one
     * restored for another test's A would be) and a search_path, which a backend at the server's defaults lacks.
     */
    private static String[] aParameters(String applicationName) {
        return new String[] {"application_name", applicationName, "search_path", A_SEARCH_PATH};
    }

    private RawWireClient login(String... parameters) throws IOException {
        return RawWireClient.login(Clients.HOST, port, 15_000, USER, PASSWORD, DB, parameters);
    }

    private Pool pool() {
        return server.pools().get(new PoolKey(DB, USER));
    }

    private static final String WHO = "select current_setting('application_name'), current_setting('search_path'),"
            + " pg_backend_pid()::text";

    /** The last statement of each of plain_u's backends (pgferry's), by process id, straight from PostgreSQL. */
    private static java.util.Map<String, String> lastQueries() throws SQLException {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        try (Connection direct = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, DB);
                Statement st = direct.createStatement();
                ResultSet rs = st.executeQuery("select pid::text, query from pg_stat_activity where usename = '" + USER
                        + "'")) {
            while (rs.next()) {
                m.put(rs.getString(1), rs.getString(2));
            }
        }
        return m;
    }

    /** The backend whose last statement was pgferry's restore of A's parameters, {@code applicationName} among them. */
    private static String restoredBackend(java.util.Map<String, String> lastQueries, String applicationName) {
        List<String> pids = lastQueries.entrySet().stream()
                .filter(e -> e.getValue().contains("set_config") && e.getValue().contains(applicationName))
                .map(java.util.Map.Entry::getKey).toList();
        assertThat(pids).as("backends restored to A's parameters: %s", lastQueries).hasSize(1);
        return pids.get(0);
    }

    /** B logs in and runs {@link #WHO}; returns its row once all the pool's backends are idle again. */
    private int idleAfter(RawWireClient b) throws Exception {
        b.exchange(1, RawWireClient.query(WHO));
        Thread.sleep(50);
        int idle = pool().stats().counts().idle();
        assertThat(idle).as("idle backends").isPositive();
        PgferryState.awaitAllIdle(pool(), idle);
        return idle;
    }

    /** {@link RawWireClient#cancel} to pgferry. */
    private Msg cancel(byte[] keyData) throws IOException {
        return RawWireClient.cancel(Clients.HOST, port, keyData);
    }

    /**
     * B (the server's defaults) leaves the pool's one backend at its defaults; A (its own application_name and
     * search_path) sends a 5 s sleep, so the lease starts with pgferry's SET, whose answer the proxy holds 1.5 s. A's
     * cancel in that time is not lost: A gets 57014 and ReadyForQuery 'I' as soon as the SET is answered, the sleep
     * never reaches the server (the backend's last query is pgferry's SET), and the backend, back in the pool, serves
     * A and B with their own parameters.
     */
    @Test
    @Timeout(60)
    void cancelWhileTheBackendIsRestoredAnswers57014AndTheQueryNeverRuns() throws Exception {
        try (RawWireClient b = login(); RawWireClient a = login(aParameters("restore-query"))) {
            List<String> bBefore = RawWireClient.firstRow(b.exchange(1, RawWireClient.query(WHO)));
            int idle = idleAfter(b);

            proxy.latencyForUser(USER, LATENCY_MILLIS);
            long t0 = System.nanoTime();
            a.send(RawWireClient.query("select 'ran ' || pg_sleep(5)"));
            PgferryState.awaitSessionState(server, "restoring");
            assertThat(cancel(a.backendKeyData())).as("closed without a reply").isEqualTo(Msg.EOF);
            List<Msg> reply = a.readUntilReady();
            double seconds = (System.nanoTime() - t0) / 1e9;
            proxy.latencyForUser(USER, 0);

            // a ParameterStatus for application_name may precede: the restore changed a reported parameter
            assertThat(reply.stream().filter(m -> m.type() != 'S').toList()).containsExactly(CANCELED_ERROR, READY_IDLE);
            assertThat(seconds).as("seconds from the query to its answer (a sleep that ran takes 5)").isLessThan(4.5);
            java.util.Map<String, String> last = lastQueries();
            assertThat(last.values()).as("what the backends ran last").noneMatch(q -> q.contains("pg_sleep"));
            String pid = bBefore.get(2);
            assertThat(restoredBackend(last, "restore-query")).as("the backend restored for A").isEqualTo(pid);
            PgferryState.awaitAllIdle(pool(), idle);

            assertThat(RawWireClient.firstRow(a.exchange(1, RawWireClient.query(WHO)))).as("A after the cancel, on the same backend")
                    .containsExactly("restore-query", A_SEARCH_PATH, pid);
            assertThat(RawWireClient.firstRow(b.exchange(1, RawWireClient.query(WHO)))).as("B, at the server's defaults")
                    .isEqualTo(bBefore);
            assertThat(RawWireClient.firstRow(a.exchange(1, RawWireClient.query(WHO)))).containsExactly("restore-query", A_SEARCH_PATH,
                    pid);
            PgferryState.awaitAllIdle(pool(), idle);
        }
    }

    /**
     * The same for an extended-protocol batch whose Sync is not sent yet (Parse/Bind/Execute/Flush): the error comes
     * when the restore is answered, Bind/Execute sent after it are skipped unanswered, their Sync gets ReadyForQuery
     * 'I', and a Query pipelined after that Sync runs.
     */
    @Test
    @Timeout(60)
    void cancelWhileTheBackendIsRestoredSkipsTheRestOfTheBatchToItsSync() throws Exception {
        try (RawWireClient b = login(); RawWireClient a = login(aParameters("restore-batch"))) {
            int idle = idleAfter(b);

            proxy.latencyForUser(USER, LATENCY_MILLIS);
            a.send(RawWireClient.parse("", "select 'ran ' || pg_sleep(5)"), RawWireClient.bind(""),
                    RawWireClient.execute(), RawWireClient.message('H', new byte[0]));
            PgferryState.awaitSessionState(server, "restoring");
            assertThat(cancel(a.backendKeyData())).isEqualTo(Msg.EOF);
            Msg first = a.read();
            while (first.type() == 'S') {
                first = a.read();
            }
            assertThat(first).isEqualTo(CANCELED_ERROR);
            proxy.latencyForUser(USER, 0);
            assertThat(lastQueries().values()).noneMatch(q -> q.contains("pg_sleep"));

            a.send(RawWireClient.bind(""), RawWireClient.execute(), RawWireClient.sync(), RawWireClient.query(WHO));
            assertThat(a.read()).as("the skipped batch's Sync").isEqualTo(READY_IDLE);
            assertThat(RawWireClient.firstRow(a.readUntilReady())).startsWith("restore-batch", A_SEARCH_PATH);
            assertThat(lastQueries().values()).noneMatch(q -> q.contains("pg_sleep"));
            PgferryState.awaitAllIdle(pool(), idle);
        }
    }

    /**
     * pgjdbc: Statement.cancel() of a prepared statement whose backend is being restored (pgjdbc's own startup
     * parameters, extra_float_digits among them, differ from the defaults B left): SQLException 57014, nothing
     * inserted, and the same statement runs afterwards.
     */
    @Test
    @Timeout(60)
    void pgjdbcCancelWhileTheBackendIsRestoredFailsTheStatementWith57014AndItNeverRuns() throws Exception {
        PostgresFixture.get().connect(PostgresFixture.SUPERUSER, DB).createStatement().execute(
                "create table if not exists restorecancel_rows (v text); grant select, insert, delete on"
                        + " restorecancel_rows to " + USER + "; delete from restorecancel_rows");
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        p.setProperty("socketTimeout", "30");
        p.setProperty("ApplicationName", "restore-jdbc");
        try (RawWireClient b = login();
                Connection a = new org.postgresql.Driver().connect("jdbc:postgresql://" + Clients.HOST + ":" + port
                        + "/" + DB, p);
                PreparedStatement insert = a.prepareStatement(
                        "insert into restorecancel_rows select 'ran ' || pg_sleep(5)")) {
            int idle = idleAfter(b); // B leaves a backend at the server's defaults
            proxy.latencyForUser(USER, LATENCY_MILLIS);
            long t0 = System.nanoTime();
            CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    insert.executeUpdate();
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            }, threads);
            PgferryState.awaitSessionState(server, "restoring");
            insert.cancel();
            Throwable error = outcome.get(10, TimeUnit.SECONDS);
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds to the answer").isLessThan(4.5);
            proxy.latencyForUser(USER, 0);
            assertThat(error).isInstanceOf(PSQLException.class);
            var e = ((PSQLException) error).getServerErrorMessage();
            assertThat(e.getSQLState()).isEqualTo("57014");
            assertThat(e.getSeverity()).isEqualTo("ERROR");
            assertThat(e.getMessage()).isEqualTo(CANCELED);
            PgferryState.awaitAllIdle(pool(), idle);
            try (Statement st = a.createStatement(); ResultSet rs = st.executeQuery(
                    "select count(*) from restorecancel_rows")) {
                rs.next();
                assertThat(rs.getInt(1)).as("rows of the canceled INSERT").isZero();
            }
            assertThat(a.prepareStatement("select 1").executeQuery().next()).isTrue();
        }
    }
}
