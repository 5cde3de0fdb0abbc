package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.observability.PrometheusText;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code pgferry.pool.idle-transaction-timeout=1s} and {@code pgferry.client-idle-timeout=2s}, as PgBouncer's
 * idle_transaction_timeout and client_idle_timeout: the client gets FATAL 08P01 with PgBouncer's words and is closed;
 * a backend it held inside a transaction is rolled back and serves the next client. Pools of one backend; database
 * {@code bench} in session mode.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(IdleTimeoutsTest.IdleTimeouts.class)
class IdleTimeoutsTest {
    static final Duration IDLE_TRANSACTION_TIMEOUT = Duration.ofSeconds(1);
    static final Duration CLIENT_IDLE_TIMEOUT = Duration.ofSeconds(2);
    /** Room for the sweep (a tenth of the shortest limit) and a busy shared machine. */
    static final double SLACK_SECONDS = 1.5;
    static final String DB = "postgres";
    static final String SESSION_DB = "bench";

    public static class IdleTimeouts implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.idle-transaction-timeout", IDLE_TRANSACTION_TIMEOUT.toSeconds() + "s",
                    "pgferry.client-idle-timeout", CLIENT_IDLE_TIMEOUT.toSeconds() + "s",
                    "pgferry.databases.bench.pool-mode", "session",
                    "pgferry.pool.size", "1",
                    "pgferry.pool.query-wait-timeout", "10s",
                    "pgferry.auth.type", "md5"); // as TinyPoolProfile
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    @Timeout(60)
    void idleInTransactionClientGetsFatalAndTheWaitingClientGetsItsBackendRolledBack() throws Exception {
        String user = "md5_u";
        double before = metric("pgferry_idle_transaction_timeouts_total", DB, user);
        try (Connection waiter = Clients.proxy(port, user, DB); RawWireClient holder = raw(user, DB);
                Connection direct = Clients.direct(DB)) {
            List<Msg> begun = holder.exchange(1,
                    RawWireClient.query("begin; select pg_advisory_xact_lock(4242); select pg_backend_pid()"));
            assertThat(begun.get(begun.size() - 1)).hasToString("Ready(T)");
            long restAt = System.nanoTime();
            int pid = Integer.parseInt(lastColumn(begun));
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try {
                    return one(waiter, "select pg_backend_pid()::text || ' ' || pg_try_advisory_xact_lock(4242)");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });

            Msg error = holder.read();
            double idleSeconds = (System.nanoTime() - restAt) / 1e9;
            assertThat(error).hasToString("Error[S=FATAL V=FATAL C=08P01 M=idle transaction timeout F=null R=null]");
            assertThat(holder.read()).as("closed after the error").isEqualTo(Msg.EOF);
            assertThat(idleSeconds).as("seconds idle in the transaction").isBetween(
                    IDLE_TRANSACTION_TIMEOUT.toMillis() / 1000.0, IDLE_TRANSACTION_TIMEOUT.toSeconds() + SLACK_SECONDS);

            // rolled back and returned (pgferry's reset path for a client gone mid-transaction), not left dirty: the
            // waiting client is served on the same server process, which no longer holds the transaction's lock
            assertThat(served.get(10, TimeUnit.SECONDS)).isEqualTo(pid + " true");
            assertThat(one(direct, "select count(*) from pg_stat_activity where state like 'idle in transaction%'"
                    + " and usename = '" + user + "'")).isEqualTo("0");
            assertThat(Clients.serverPids(direct, user, DB)).containsExactly(pid);
        }
        assertThat(metric("pgferry_idle_transaction_timeouts_total", DB, user)).isEqualTo(before + 1);
    }

    @Test
    @Timeout(60)
    void aFailedTransactionLeftIdleIsClosedTheSameWay() throws Exception {
        try (RawWireClient holder = raw("plain_u", DB)) {
            List<Msg> failed = holder.exchange(1, RawWireClient.query("begin; select 1/0"));
            assertThat(failed.get(failed.size() - 1)).hasToString("Ready(E)");
            assertThat(holder.read()).hasToString("Error[S=FATAL V=FATAL C=08P01 M=idle transaction timeout F=null R=null]");
            assertThat(holder.read()).isEqualTo(Msg.EOF);
        }
    }

    @Test
    @Timeout(60)
    void aTransactionRunningLongOrIdleWithinTheLimitIsLeftAlone() throws Exception {
        try (RawWireClient c = raw("scram_u", DB)) {
            c.exchange(1, RawWireClient.query("begin"));
            // its own statement runs three limits long: nothing is idle
            List<Msg> slept = c.exchange(1, RawWireClient.query("select pg_sleep(" + 3 * IDLE_TRANSACTION_TIMEOUT.toSeconds() + ")"));
            assertThat(slept.get(slept.size() - 1)).hasToString("Ready(T)");
            for (int i = 0; i < 3; i++) {
                Thread.sleep(IDLE_TRANSACTION_TIMEOUT.toMillis() / 2); // each rest half the limit
                List<Msg> next = c.exchange(1, RawWireClient.query("select " + i));
                assertThat(next.get(next.size() - 1)).hasToString("Ready(T)");
            }
            List<Msg> committed = c.exchange(1, RawWireClient.query("commit"));
            assertThat(committed.get(committed.size() - 1)).hasToString("Ready(I)");
        }
    }

    @Test
    @Timeout(60)
    void aClientHoldingNoBackendIsClosedWithClientIdleTimeoutAndNotBefore() throws Exception {
        String user = "md5_u";
        double before = metric("pgferry_client_idle_timeouts_total", DB, user);
        try (RawWireClient c = raw(user, DB)) {
            Thread.sleep(CLIENT_IDLE_TIMEOUT.toMillis() / 2); // within the limit since its login
            List<Msg> answered = c.exchange(1, RawWireClient.query("select 1"));
            assertThat(answered.get(answered.size() - 1)).hasToString("Ready(I)");
            long restAt = System.nanoTime(); // its backend went back to the pool with that ReadyForQuery
            Msg error = c.read();
            double idleSeconds = (System.nanoTime() - restAt) / 1e9;
            assertThat(error).hasToString("Error[S=FATAL V=FATAL C=08P01 M=client_idle_timeout F=null R=null]");
            assertThat(c.read()).isEqualTo(Msg.EOF);
            assertThat(idleSeconds).as("seconds idle").isBetween(CLIENT_IDLE_TIMEOUT.toMillis() / 1000.0,
                    CLIENT_IDLE_TIMEOUT.toSeconds() + SLACK_SECONDS);
        }
        assertThat(metric("pgferry_client_idle_timeouts_total", DB, user)).isEqualTo(before + 1);
    }

    /**
     * Session mode: a client holding its backend between transactions is not idle-timed out (PgBouncer's janitor skips
     * a client linked to a server), and a session-mode client holds its backend from its login on (its BackendKeyData
     * carries that backend's pid), so it is exempt before its first query too, where PgBouncer, which links it at its
     * first query, is not. Inside a transaction the idle-transaction timeout applies, and the backend, rolled back and
     * reset (DISCARD ALL), serves the next client.
     */
    @Test
    @Timeout(60)
    void sessionModeHolderIsExemptBetweenTransactionsButNotInsideOne() throws Exception {
        String user = "md5_u";
        try (RawWireClient holder = raw(user, SESSION_DB)) {
            Thread.sleep(CLIENT_IDLE_TIMEOUT.toMillis() + (long) (SLACK_SECONDS * 1000)); // at rest since its login
            List<Msg> first = holder.exchange(1, RawWireClient.query("set application_name = 'kept'; select pg_backend_pid()"));
            int pid = Integer.parseInt(lastColumn(first));
            Thread.sleep(CLIENT_IDLE_TIMEOUT.toMillis() + (long) (SLACK_SECONDS * 1000)); // at rest between transactions
            List<Msg> again = holder.exchange(1, RawWireClient.query("select pg_backend_pid()"));
            assertThat(lastColumn(again)).as("the session keeps its backend").isEqualTo(String.valueOf(pid));

            List<Msg> begun = holder.exchange(1, RawWireClient.query("begin"));
            assertThat(begun.get(begun.size() - 1)).hasToString("Ready(T)");
            assertThat(holder.read()).hasToString("Error[S=FATAL V=FATAL C=08P01 M=idle transaction timeout F=null R=null]");
            assertThat(holder.read()).isEqualTo(Msg.EOF);
            try (RawWireClient next = raw(user, SESSION_DB)) {
                List<Msg> clean = next.exchange(1, RawWireClient.query(
                        "select pg_backend_pid() || ' ' || current_setting('application_name') || ' '"
                                + " || (now() = statement_timestamp())"));
                assertThat(lastColumn(clean)).as("same backend, out of the transaction, reset")
                        .isEqualTo(pid + "  true");
            }
        }
    }

    private RawWireClient raw(String user, String database) throws IOException {
        return RawWireClient.login(Clients.HOST, port, 10_000, user, Clients.PASSWORDS.get(user), database);
    }

    /** The first column of the last DataRow, as text. */
    static String lastColumn(List<Msg> messages) {
        Msg row = null;
        for (Msg m : messages) {
            if (m.type() == 'D') {
                row = m;
            }
        }
        assertThat(row).as("a DataRow in " + messages).isNotNull();
        ByteBuffer b = ByteBuffer.wrap(row.body());
        b.getShort();
        int len = b.getInt();
        return new String(row.body(), b.position(), len, StandardCharsets.UTF_8);
    }

    private static double metric(String name, String database, String user) {
        String text = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        PrometheusText p = new PrometheusText(text);
        double v = p.value(name, Map.of("database", database, "user", user));
        return Double.isNaN(v) ? 0 : v; // a pool's meters appear with its first lease
    }
}
