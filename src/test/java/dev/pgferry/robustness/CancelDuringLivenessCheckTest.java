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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cancel that arrives while pgferry checks that a just-leased backend is alive (the empty query of check-delay, here
 * 0: every lease), before any of the client's request reached the server. The {@link FaultProxy} holds the server's
 * answer to md5_u's backend, so the cancel lands inside the check every time.
 */
@QuarkusTest
@WithTestResource(FaultProxyResource.class)
@TestProfile(OneCheckedBackendProfile.class)
class CancelDuringLivenessCheckTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Inject
    ProxyServer server;

    static FaultProxy proxy;

    static final String USER = "md5_u";
    static final String DB = "postgres";
    static final int LATENCY_MILLIS = 1500;
    static final List<Msg> CANCELED = List.of(
            new Msg('E', ("SERROR\0VERROR\0C57014\0Mcanceling statement due to user request\0\0")
                    .getBytes(StandardCharsets.UTF_8)),
            new Msg('Z', new byte[] {'I'}));

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
    }

    private RawWireClient login() throws IOException {
        return RawWireClient.login(Clients.HOST, port, 15_000, USER, "md5_pw", DB);
    }

    private Pool pool() {
        return server.pools().get(new PoolKey(DB, USER));
    }

    /** What the server last ran on backend {@code pid}; null once the backend is gone. */
    private static String lastQueryOf(String pid) throws SQLException {
        try (Connection direct = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, DB);
                Statement st = direct.createStatement();
                ResultSet rs = st.executeQuery("select query from pg_stat_activity where pid = " + pid)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** {@link RawWireClient#cancel} to pgferry. */
    private Msg cancel(byte[] keyData) throws IOException {
        return RawWireClient.cancel(Clients.HOST, port, keyData);
    }

    /**
     * With check-delay 0 every lease is checked, once: each query is answered on the one backend, whose last statement
     * is the query itself (the check's empty query ran before it). It used to check the backend again after each check
     * passed, forever, and the query was never answered.
     */
    @Test
    @Timeout(60)
    void withCheckDelay0EachLeaseIsCheckedOnceAndServed() throws Exception {
        try (RawWireClient a = login()) {
            a.timeout(5_000);
            String pid = RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select pg_backend_pid()::text")));
            for (int i = 0; i < 3; i++) {
                List<Msg> reply = a.exchange(1, RawWireClient.query("select 'query " + i + "'"));
                assertThat(RawWireClient.firstValue(reply)).isEqualTo("query " + i);
                assertThat(lastQueryOf(pid)).isEqualTo("select 'query " + i + "'");
            }
            PgferryState.awaitAllIdle(pool(), 1);
        }
    }

    /** The check passes: the backend goes back to the pool unused, the client gets 57014, and it is served on it next. */
    @Test
    @Timeout(60)
    void cancelDuringTheLivenessCheckAnswers57014AndTheCheckedBackendIsReused() throws Exception {
        try (RawWireClient a = login()) {
            String pid = RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select pg_backend_pid()::text")));
            PgferryState.awaitAllIdle(pool(), 1);
            proxy.latencyForUser(USER, LATENCY_MILLIS);
            long t0 = System.nanoTime();
            a.send(RawWireClient.query("select 'ran ' || pg_sleep(5)"));
            PgferryState.awaitSessionState(server, "restoring");
            assertThat(cancel(a.backendKeyData())).isEqualTo(Msg.EOF);
            assertThat(a.readUntilReady()).isEqualTo(CANCELED);
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds to the answer").isLessThan(4.5);
            proxy.latencyForUser(USER, 0);
            assertThat(lastQueryOf(pid)).as("the backend's last statement: the check").isEmpty();
            PgferryState.awaitAllIdle(pool(), 1);
            assertThat(RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select pg_backend_pid()::text"))))
                    .as("the same backend, reused").isEqualTo(pid);
        }
    }

    /**
     * The backend dies during the check: it is discarded, and the canceled request is answered 57014 rather than
     * retried on another backend; the next request gets a new one.
     */
    @Test
    @Timeout(60)
    void cancelDuringAFailingLivenessCheckAnswers57014WithoutRetryingTheRequest() throws Exception {
        try (RawWireClient a = login()) {
            String pid = RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select pg_backend_pid()::text")));
            PgferryState.awaitAllIdle(pool(), 1);
            proxy.latencyForUser(USER, LATENCY_MILLIS);
            a.send(RawWireClient.query("select 'ran ' || pg_sleep(5)"));
            PgferryState.awaitSessionState(server, "restoring");
            assertThat(cancel(a.backendKeyData())).isEqualTo(Msg.EOF);
            assertThat(proxy.resetPid(Integer.parseInt(pid))).as("the checked backend's connection cut").isTrue();
            assertThat(a.readUntilReady()).isEqualTo(CANCELED);
            proxy.latencyForUser(USER, 0);
            String next = RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select pg_backend_pid()::text")));
            assertThat(next).as("a new backend").isNotEqualTo(pid);
            assertThat(lastQueryOf(next)).doesNotContain("pg_sleep");
            PgferryState.awaitAllIdle(pool(), 1);
        }
    }
}
