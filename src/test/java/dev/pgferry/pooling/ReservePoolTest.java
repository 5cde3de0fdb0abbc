package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.observability.PrometheusText;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code pgferry.pool.reserve-size=1}, {@code reserve-timeout=1s} on pools of one backend, as PgBouncer's
 * reserve_pool_size and reserve_pool_timeout: a client that waited a second gets a second backend, one that waited
 * less is served by the first, and a pool never has more than its size and its reserve. Watched on the server itself
 * (pg_stat_activity). Each test has a user of its own, so a pool of its own.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ReservePoolTest.ReserveOfOne.class)
class ReservePoolTest {
    static final String DB = "postgres";
    static final Duration RESERVE_TIMEOUT = Duration.ofSeconds(1);
    /** The wait sweep runs at a tenth of the reserve timeout; a reserve connect takes milliseconds more. */
    static final Duration LATENESS = Duration.ofMillis(700);
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);

    public static class ReserveOfOne implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.size", "1",
                    "pgferry.pool.reserve-size", "1",
                    "pgferry.pool.reserve-timeout", RESERVE_TIMEOUT.toSeconds() + "s",
                    "pgferry.pool.idle-timeout", IDLE_TIMEOUT.toSeconds() + "s",
                    "pgferry.pool.query-wait-timeout", "10s",
                    "pgferry.auth.type", "md5"); // as TinyPoolProfile
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    @Timeout(60)
    void aClientWaitingLongerThanReserveTimeoutIsServedOnAReserveBackendLaterClosedByIdleTimeout() throws Exception {
        String user = "md5_u";
        try (Connection d = Clients.direct(DB); Connection a = Clients.proxy(port, user, DB);
                Connection b = Clients.proxy(port, user, DB)) {
            a.setAutoCommit(false);
            int pidOfA = Integer.parseInt(one(a, "select pg_backend_pid()")); // holds the pool's one backend
            double before = metric("pgferry_backend_reserve_opened_total", user);
            long t0 = System.nanoTime();
            CompletableFuture<String> waiting = query(b, "select pg_backend_pid()");
            Thread.sleep(RESERVE_TIMEOUT.toMillis() / 2);
            assertThat(waiting).as("b before the reserve timeout").isNotDone();
            assertThat(Clients.serverPids(d, user, DB)).containsExactly(pidOfA);
            int pidOfB = Integer.parseInt(waiting.get(5, TimeUnit.SECONDS));
            double waited = (System.nanoTime() - t0) / 1e9;
            assertThat(waited).as("seconds b waited").isBetween(RESERVE_TIMEOUT.toMillis() / 1000.0,
                    RESERVE_TIMEOUT.plus(LATENESS).toMillis() / 1000.0);
            assertThat(pidOfB).as("b's backend").isNotEqualTo(pidOfA);
            assertThat(Clients.serverPids(d, user, DB)).as("a's backend and the reserve one")
                    .containsExactlyInAnyOrder(pidOfA, pidOfB);
            assertThat(metric("pgferry_backend_reserve_opened_total", user)).isEqualTo(before + 1);
            a.commit();
            // an ordinary member now: idle, it is closed by idle-timeout like the other (PgBouncer's server_idle_timeout)
            List<Integer> left = Clients.await(IDLE_TIMEOUT.plusSeconds(3), () -> Clients.serverPids(d, user, DB),
                    List::isEmpty);
            assertThat(left).as("backends after idle-timeout").isEmpty();
            assertThat(one(b, "select 'b served again'")).isEqualTo("b served again");
        }
    }

    @Test
    @Timeout(60)
    void aClientWaitingLessThanReserveTimeoutIsServedByTheBackendThatFreesAndNoReserveIsOpened() throws Exception {
        String user = "plain_u";
        try (Connection d = Clients.direct(DB); Connection a = Clients.proxy(port, user, DB);
                Connection b = Clients.proxy(port, user, DB)) {
            a.setAutoCommit(false);
            int pidOfA = Integer.parseInt(one(a, "select pg_backend_pid()"));
            double before = metric("pgferry_backend_reserve_opened_total", user);
            CompletableFuture<String> waiting = query(b, "select pg_backend_pid()");
            Thread.sleep(RESERVE_TIMEOUT.toMillis() * 4 / 10);
            assertThat(waiting).isNotDone();
            a.commit();
            assertThat(waiting.get(2, TimeUnit.SECONDS)).as("b served on a's backend").isEqualTo(String.valueOf(pidOfA));
            Thread.sleep(RESERVE_TIMEOUT.plus(LATENESS).toMillis()); // nobody waits any more: nothing to open late
            assertThat(Clients.serverPids(d, user, DB)).containsExactly(pidOfA);
            assertThat(metric("pgferry_backend_reserve_opened_total", user)).isEqualTo(before);
        }
    }

    /**
     * a holds the pool's backend, b gets the reserve one and holds it too; c, waiting as long, gets no third: the pool
     * never has more than size + reserve-size. It is served once a commits, on a's backend.
     */
    @Test
    @Timeout(60)
    void theReserveNeverExceedsReserveSize() throws Exception {
        String user = "scram_u";
        AtomicInteger most = new AtomicInteger();
        AtomicBoolean sampling = new AtomicBoolean(true);
        CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> {
            try (Connection d = Clients.direct(DB)) {
                while (sampling.get()) {
                    most.accumulateAndGet(Clients.serverBackends(d, user, DB), Math::max);
                    Thread.sleep(20);
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try (Connection d = Clients.direct(DB); Connection a = Clients.proxy(port, user, DB);
                Connection b = Clients.proxy(port, user, DB); Connection c = Clients.proxy(port, user, DB)) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            int pidOfA = Integer.parseInt(one(a, "select pg_backend_pid()"));
            int pidOfB = Integer.parseInt(one(b, "select pg_backend_pid()")); // after the reserve timeout
            assertThat(pidOfB).isNotEqualTo(pidOfA);
            CompletableFuture<String> waiting = query(c, "select pg_backend_pid()");
            Thread.sleep(RESERVE_TIMEOUT.multipliedBy(2).plus(LATENESS).toMillis());
            assertThat(waiting).as("c while a and b hold the backend and the reserve").isNotDone();
            assertThat(Clients.serverPids(d, user, DB)).containsExactlyInAnyOrder(pidOfA, pidOfB);
            a.commit();
            assertThat(waiting.get(2, TimeUnit.SECONDS)).as("c served on a's backend").isEqualTo(String.valueOf(pidOfA));
            b.commit();
        } finally {
            sampling.set(false);
            sampler.get(5, TimeUnit.SECONDS);
        }
        assertThat(most.get()).as("most backends the pool had at once").isEqualTo(2);
    }

    @Test
    @Timeout(30)
    void showConfigListsTheReserve() throws Exception {
        try (Connection admin = Clients.proxy(port, "postgres", "pgferry", "preferQueryMode", "simple")) {
            Map<String, String> config = new HashMap<>();
            AdminConsoleRows.rows(admin, "SHOW CONFIG").forEach(r -> config.put(r.get("key"), r.get("value")));
            assertThat(config).containsEntry("pgferry.pool.reserve-size", "1")
                    .containsEntry("pgferry.pool.reserve-timeout", "1s");
        }
    }

    /** {@code sql}'s one value, read on another thread; an error becomes its text. */
    static CompletableFuture<String> query(Connection c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return one(c, sql);
            } catch (SQLException e) {
                return "error " + e.getSQLState() + ": " + e.getMessage();
            }
        });
    }

    static double metric(String name, String user) {
        String text = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        double v = new PrometheusText(text).value(name, Map.of("database", DB, "user", user));
        return Double.isNaN(v) ? 0 : v; // a pool's meters appear with its first lease
    }
}
