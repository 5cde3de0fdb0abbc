package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two event loops, a pool of two backends. Backends stay on their loop while that loop's own backends come
 * back soon, but a client whose loop's only backend is held by a long transaction must not wait for it while
 * a backend idles on the other loop: within milliseconds that backend moves over.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(LoopRebalanceTest.TwoLoopsTwoBackends.class)
class LoopRebalanceTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "md5_u";
    static final String DB = "postgres";

    public static class TwoLoopsTwoBackends implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.event-loops", "2", "pgferry.pool.size", "2",
                    "pgferry.pool.query-wait-timeout", "30s");
        }
    }

    @Test
    @Timeout(60)
    void waiterTakesTheIdleBackendOfTheOtherLoopWhileItsOwnIsHeld() throws Exception {
        // accepted connections alternate between the two loops: first and third share one, second is on the other
        try (Connection holder = Clients.proxy(port, USER, DB);
                Connection other = Clients.proxy(port, USER, DB);
                Connection waiter = Clients.proxy(port, USER, DB)) {
            holder.setAutoCommit(false);
            String held = one(holder, "select pg_backend_pid()"); // opened on the first loop, held
            String idle = one(other, "select pg_backend_pid()"); // opened on the second loop, now idle there
            assertThat(idle).isNotEqualTo(held);
            long t0 = System.nanoTime();
            String got = CompletableFuture.supplyAsync(() -> {
                try {
                    return one(waiter, "select pg_backend_pid()");
                } catch (Exception e) {
                    return "error: " + e;
                }
            }).get(5, TimeUnit.SECONDS);
            double ms = (System.nanoTime() - t0) / 1e6;
            assertThat(got).as("the waiter was served by the backend idle on the other loop").isEqualTo(idle);
            assertThat(ms).as("milliseconds the waiter took while the holder kept its transaction").isLessThan(2000);
            assertThat(one(holder, "select pg_backend_pid()")).as("the holder kept its backend").isEqualTo(held);
            holder.commit();
            assertThat(one(other, "select 'still served'")).isEqualTo("still served");
        }
    }
}
