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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code pgferry.pool.max-user-connections=1} with pools of five and {@code idle-timeout=1s}, watched on the server
 * itself (pg_stat_activity), as PgBouncer's max_user_connections: a user has one backend at most whatever number of
 * databases its clients use. A client of its second database waits (it is not refused) until the first database's
 * backend is given back and, idle in its own pool, closed by idle-timeout. Other users are not held back.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(MaxUserConnectionsTest.UserCapOfOne.class)
class MaxUserConnectionsTest {
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(1);
    /** The pool looks after its backends once a second; a check may come that much after a deadline. */
    static final Duration MAINTENANCE = Duration.ofSeconds(1);

    public static class UserCapOfOne implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.size", "5",
                    "pgferry.pool.max-user-connections", "1",
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
    void aUsersSecondDatabaseWaitsUntilTheFirstDatabasesBackendIsClosed() throws Exception {
        String user = "md5_u";
        String ofUser = "select count(*) from pg_stat_activity where usename = '" + user + "'";
        try (Connection d = Clients.direct("postgres")) {
            assertThat(Clients.await(Duration.ofSeconds(5), () -> Clients.count(d, ofUser), n -> n == 0))
                    .as("backends of %s left by an earlier test", user).isZero();
        }
        AtomicInteger most = new AtomicInteger();
        AtomicBoolean sampling = new AtomicBoolean(true);
        CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> {
            try (Connection d = Clients.direct("postgres")) {
                while (sampling.get()) {
                    most.accumulateAndGet((int) Clients.count(d, ofUser), Math::max);
                    Thread.sleep(20);
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try (Connection d = Clients.direct("postgres"); Connection a = Clients.proxy(port, user, "postgres")) {
            a.setAutoCommit(false);
            int pidOfA = Integer.parseInt(one(a, "select pg_backend_pid()")); // the user's one backend, held
            CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> {
                try (Connection b = Clients.proxy(port, user, "bench")) { // its login needs a backend too
                    return one(b, "select current_database()");
                } catch (SQLException e) {
                    return "error " + e.getSQLState() + ": " + e.getMessage();
                }
            });
            try (Connection other = Clients.proxy(port, "plain_u", "bench")) {
                assertThat(one(other, "select 'other user served'")).as("another user is not held back")
                        .isEqualTo("other user served");
            }
            Thread.sleep(IDLE_TIMEOUT.plus(MAINTENANCE).toMillis());
            assertThat(second).as("md5_u on bench while md5_u holds a backend on postgres").isNotDone();
            assertThat(Clients.count(d, ofUser)).isEqualTo(1);
            a.commit(); // a's backend goes back to its pool, where idle-timeout closes it
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("bench");
            assertThat(Clients.serverPids(d, user, "postgres")).as("postgres's backend made room")
                    .doesNotContain(pidOfA);
        } finally {
            sampling.set(false);
            sampler.get(5, TimeUnit.SECONDS);
        }
        assertThat(most.get()).as("most backends %s had at once", user).isEqualTo(1);
    }
}
