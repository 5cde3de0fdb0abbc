package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
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
 * {@code pgferry.pool.idle-timeout=1s} and {@code max-db-connections=2}, watched on the server itself
 * (pg_stat_activity): a backend unused for a second is closed, and a database never has more than two backends
 * whatever number of users' pools ask for one. Pools of five backends, so the cap is the database's.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(IdleTimeoutAndMaxDbConnectionsTest.IdleTimeoutAndDatabaseCap.class)
class IdleTimeoutAndMaxDbConnectionsTest {
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(1);
    /** The pool looks after its backends once a second; a check may come that much after a deadline. */
    static final Duration MAINTENANCE = Duration.ofSeconds(1);
    static final int MAX_DB_CONNECTIONS = 2;

    public static class IdleTimeoutAndDatabaseCap implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.size", "5",
                    "pgferry.pool.idle-timeout", IDLE_TIMEOUT.toSeconds() + "s",
                    "pgferry.pool.max-db-connections", String.valueOf(MAX_DB_CONNECTIONS),
                    "pgferry.pool.query-wait-timeout", "10s",
                    "pgferry.auth.type", "md5"); // as TinyPoolProfile
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    @Timeout(60)
    void aBackendIdleLongerThanIdleTimeoutIsClosedAndItsClientGetsAnotherOne() throws Exception {
        String user = "scram_u";
        String db = "bench"; // apart from the cap test's database
        try (Connection c = Clients.proxy(port, user, db); Connection d = Clients.direct(db)) {
            int pid = Integer.parseInt(one(c, "select pg_backend_pid()"));
            long lastUse = System.nanoTime();
            assertThat(Clients.serverPids(d, user, db)).containsExactly(pid);
            List<Integer> after = Clients.await(IDLE_TIMEOUT.plus(MAINTENANCE.multipliedBy(2)),
                    () -> Clients.serverPids(d, user, db), pids -> !pids.contains(pid));
            double idleSeconds = (System.nanoTime() - lastUse) / 1e9;
            assertThat(after).as("backends of the idle pool").isEmpty();
            assertThat(idleSeconds).as("seconds from the last use to the close")
                    .isGreaterThanOrEqualTo(IDLE_TIMEOUT.toMillis() / 1000.0);
            String next = one(c, "select pg_backend_pid()");
            assertThat(next).as("the connected client is served by a new backend").isNotEqualTo(String.valueOf(pid));
            assertThat(Clients.serverPids(d, user, db)).containsExactly(Integer.parseInt(next));
        }
    }

    /**
     * Two users hold the database's two backends inside transactions; a third user's client cannot get one (its login
     * needs one too) until a backend is given back and, idle in its own pool, closed by idle-timeout, as PgBouncer's
     * max_db_connections. The server never shows more than two backends for the database.
     */
    @Test
    @Timeout(60)
    void maxDbConnectionsCapsTheDatabaseAcrossUsersPools() throws Exception {
        String db = "postgres";
        String users = "usename in ('scram_u', 'md5_u', 'plain_u') and datname = '" + db + "'";
        AtomicInteger most = new AtomicInteger();
        AtomicBoolean sampling = new AtomicBoolean(true);
        CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> {
            try (Connection d = Clients.direct(db)) {
                while (sampling.get()) {
                    most.accumulateAndGet((int) Clients.count(d, "select count(*) from pg_stat_activity where " + users),
                            Math::max);
                    Thread.sleep(20);
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try (Connection d = Clients.direct(db); Connection a = Clients.proxy(port, "scram_u", db);
                Connection b = Clients.proxy(port, "md5_u", db)) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            int pidOfA = Integer.parseInt(one(a, "select pg_backend_pid()"));
            one(b, "select pg_backend_pid()");
            CompletableFuture<String> third = CompletableFuture.supplyAsync(() -> {
                try (Connection c = Clients.proxy(port, "plain_u", db)) {
                    return one(c, "select 'served'");
                } catch (SQLException e) {
                    return "error " + e.getSQLState() + ": " + e.getMessage();
                }
            });
            Thread.sleep(IDLE_TIMEOUT.plus(MAINTENANCE).toMillis());
            assertThat(third).as("plain_u while scram_u and md5_u hold the two backends").isNotDone();
            assertThat(Clients.count(d, "select count(*) from pg_stat_activity where " + users))
                    .isEqualTo(MAX_DB_CONNECTIONS);
            a.commit(); // A's backend goes back to scram_u's pool, where idle-timeout closes it
            assertThat(third.get(10, TimeUnit.SECONDS)).isEqualTo("served");
            assertThat(Clients.serverPids(d, "scram_u", db)).as("scram_u's backend made room").doesNotContain(pidOfA);
            assertThat(one(b, "select 'b still served'")).isEqualTo("b still served");
            b.commit();
        } finally {
            sampling.set(false);
            sampler.get(5, TimeUnit.SECONDS);
        }
        assertThat(most.get()).as("most backends the database had at once").isEqualTo(MAX_DB_CONNECTIONS);
    }
}
