package dev.pgferry.robustness;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.observability.PrometheusText;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.server.ProxyServer;
import dev.pgferry.testing.RawWireClient.Msg;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server that stops the canceled query but never closes the cancel connection ({@link MisbehavingServer}, database
 * {@link MisbehavingServer#CANCEL_NEVER_CLOSED}, a pool of one backend). pgferry holds the backend out of the pool
 * until the server closes that connection (pgbouncer#717), and gives up after 5 s.
 */
@QuarkusTest
@WithTestResource(CancelNeverClosedResource.class)
class CancelGiveUpTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Inject
    ProxyServer server;

    static final String DB = MisbehavingServer.CANCEL_NEVER_CLOSED;
    /** CancelForwarder's give-up: how long pgferry waits for the server to close a cancel connection. */
    static final double GIVE_UP_SECONDS = 5.0;
    static final Msg CANCELED = new Msg('E', ("SERROR\0VERROR\0C57014\0Mcanceling statement due to user request\0\0")
            .getBytes(StandardCharsets.UTF_8));
    static final Msg READY_IDLE = new Msg('Z', new byte[] {'I'});
    final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    /** Logs in with no startup parameter beyond user and database, so pgferry sends the fake server no query of its own. */
    private RawWireClient login() throws IOException {
        return RawWireClient.login(Clients.HOST, port, 10_000, "postgres", "secret", DB);
    }

    private Pool pool() {
        return server.pools().get(new PoolKey(DB, "postgres"));
    }

    /** Waits up to 2 s for the pool's counts to be {@code expected} (whatever maxwait); returns the last seen. */
    private Pool.PoolCounts awaitCounts(int idle, int active, int waiting, int beingCanceled, int cancelsForwarded)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (true) {
            Pool.PoolCounts c = pool().stats().counts();
            Pool.PoolCounts expected = new Pool.PoolCounts(idle, active, 0, waiting, c.maxWaitNanos(), beingCanceled,
                    cancelsForwarded);
            if (c.equals(expected) || System.nanoTime() > deadline) {
                return c;
            }
            Thread.sleep(5);
        }
    }

    private static Map<String, String> showPools(Connection admin) {
        return AdminConsoleRows.pool(admin, DB, "postgres");
    }

    /** SHOW SERVERS rows of this database's backends. */
    private static List<Map<String, String>> showServers(Connection admin) throws SQLException {
        return AdminConsoleRows.rows(admin, "SHOW SERVERS").stream().filter(r -> DB.equals(r.get("database")))
                .toList();
    }

    private static double metric(String name) {
        return new PrometheusText(given().when().get("/q/metrics").then().statusCode(200).extract().asString())
                .value(name, Map.of("database", DB, "user", "postgres"));
    }

    /** The seconds until pgferry closed a cancel connection carrying {@code keyData}, and what came before the close. */
    private CompletableFuture<double[]> cancelAsync(byte[] keyData) {
        return CompletableFuture.supplyAsync(() -> {
            long t0 = System.nanoTime();
            try (RawWireClient c = RawWireClient.connect(Clients.HOST, port).timeout(15_000)) {
                c.send(RawWireClient.cancelRequest(keyData));
                Msg m = c.read();
                return new double[] {(System.nanoTime() - t0) / 1e9, m.type()};
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, threads);
    }

    /**
     * A's sleep is stopped at once (the server's 57014), but the server keeps the cancel connection open: the backend
     * stays out of the pool and A's cancel connection stays open until pgferry gives up after 5 s, and B, asking for the
     * pool's only backend meanwhile, waits. The admin console shows the backend as PgBouncer does, being canceled
     * (SHOW POOLS sv_being_canceled 1, not sv_active; SHOW SERVERS state being_canceled) and the forwarded cancel
     * (cl_active_cancel_req and sv_active_cancel 1), and so does /q/metrics. Then pgferry closes A's cancel connection
     * (no reply, as PostgreSQL) and closes the backend, which the server may still signal late: B is served on a new
     * backend and A after it, nothing leaked, one backend open, every count back to 0.
     */
    @Test
    @Timeout(60)
    void aCancelTheServerNeverClosesHoldsTheBackendUntilPgferryGivesUpAfter5sThenItIsClosed() throws Exception {
        try (RawWireClient a = login(); RawWireClient b = login(); Connection admin = ThroughPgferry.admin(port)) {
            String backend = RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select 'which'")));
            assertThat(awaitCounts(1, 0, 0, 0, 0)).as("pool counts before")
                    .isEqualTo(new Pool.PoolCounts(1, 0, 0, 0, 0, 0, 0));

            a.send(RawWireClient.query("select pg_sleep(60)"));
            assertThat(awaitCounts(0, 1, 0, 0, 0).active()).as("A's sleep holds the backend").isEqualTo(1);
            long t0 = System.nanoTime();
            CompletableFuture<double[]> cancel = cancelAsync(a.backendKeyData());
            List<Msg> reply = a.readUntilReady();
            assertThat(reply).as("the server's answer to the cancel, relayed").containsExactly(CANCELED, READY_IDLE);
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds from cancel to A's error").isLessThan(1.0);

            assertThat(awaitCounts(0, 0, 0, 1, 1)).as("A is done; its backend is held out of the pool")
                    .isEqualTo(new Pool.PoolCounts(0, 0, 0, 0, 0, 1, 1));
            assertThat(cancel).as("A's cancel connection, while the server keeps its own open").isNotDone();
            assertThat(showPools(admin)).containsEntry("cl_active_cancel_req", "1")
                    .containsEntry("cl_waiting_cancel_req", "0").containsEntry("sv_active", "0")
                    .containsEntry("sv_active_cancel", "1").containsEntry("sv_being_canceled", "1")
                    .containsEntry("sv_idle", "0");
            assertThat(showServers(admin)).singleElement().satisfies(r -> {
                assertThat(r).containsEntry("state", "being_canceled").containsEntry("link", null);
                assertThat("fake " + r.get("remote_pid")).isEqualTo(backend);
            });
            assertThat(metric("pgferry_backends_being_canceled")).isEqualTo(1.0);
            assertThat(metric("pgferry_backends_active")).isZero();
            b.send(RawWireClient.query("select 'b'"));
            assertThat(awaitCounts(0, 0, 1, 1, 1).waiting()).as("B waits for the held backend").isEqualTo(1);

            double[] closed = cancel.get(15, TimeUnit.SECONDS);
            assertThat((int) closed[1]).as("A's cancel connection closed without a reply").isEqualTo(Msg.EOF.type());
            assertThat(closed[0]).as("seconds A's cancel connection stayed open")
                    .isBetween(GIVE_UP_SECONDS - 0.5, GIVE_UP_SECONDS + 2.0);
            List<Msg> bReply = b.readUntilReady();
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds until B was served")
                    .isGreaterThan(GIVE_UP_SECONDS - 0.5);
            String fresh = RawWireClient.firstValue(bReply);
            assertThat(fresh).as("B on a new backend, not the one that was held").isNotEqualTo(backend);
            assertThat(awaitCounts(1, 0, 0, 0, 0)).as("pool counts after")
                    .isEqualTo(new Pool.PoolCounts(1, 0, 0, 0, 0, 0, 0));
            assertThat(RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select 'a again'")))).isEqualTo(fresh);
            assertThat(pool().growth().total()).as("backends open: the held one closed").isEqualTo(1);
            assertThat(showPools(admin)).containsEntry("cl_active_cancel_req", "0")
                    .containsEntry("sv_active_cancel", "0").containsEntry("sv_being_canceled", "0");
            assertThat(showServers(admin)).singleElement().satisfies(r -> {
                assertThat(r).containsEntry("state", "idle");
                assertThat("fake " + r.get("remote_pid")).isEqualTo(fresh);
            });
            assertThat(metric("pgferry_backends_being_canceled")).isZero();
        }
    }
}
