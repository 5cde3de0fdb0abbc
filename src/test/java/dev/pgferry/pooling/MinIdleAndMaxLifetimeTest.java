package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code pgferry.pool.min-idle=2} and {@code max-lifetime=2s}, watched on the server itself (pg_stat_activity): a pool
 * keeps two backends open with no client connected, replaces them once they are older than two seconds, and closes
 * a backend that aged inside a client's transaction only when that transaction is over. Pools of two backends.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(MinIdleAndMaxLifetimeTest.MinIdleAndMaxLifetime.class)
class MinIdleAndMaxLifetimeTest {
    static final Duration MAX_LIFETIME = Duration.ofSeconds(2);
    /** The pool looks after its backends once a second; a check may come that much after a deadline. */
    static final Duration MAINTENANCE = Duration.ofSeconds(1);

    public static class MinIdleAndMaxLifetime implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.size", "2",
                    "pgferry.pool.min-idle", "2",
                    "pgferry.pool.max-lifetime", MAX_LIFETIME.toSeconds() + "s",
                    "pgferry.pool.query-wait-timeout", "5s",
                    "pgferry.auth.type", "md5"); // as TinyPoolProfile
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String DB = "postgres";

    @Test
    @Timeout(60)
    void minIdleBackendsStayOpenWithoutClientsAndAreReplacedPastMaxLifetime() throws Exception {
        String user = "scram_u";
        try (Connection c = Clients.proxy(port, user, DB)) {
            one(c, "select 1"); // the pool exists from its first client on
        }
        try (Connection d = Clients.direct(DB)) {
            List<Integer> first = Clients.await(MAINTENANCE.multipliedBy(3), () -> Clients.serverPids(d, user, DB),
                    pids -> pids.size() == 2);
            assertThat(first).as("backends with no client connected").hasSize(2);
            List<Integer> replaced = Clients.await(MAX_LIFETIME.plus(MAINTENANCE.multipliedBy(3)),
                    () -> Clients.serverPids(d, user, DB),
                    pids -> pids.size() == 2 && Collections.disjoint(pids, first));
            assertThat(replaced).as("backends after %s, the first were %s", MAX_LIFETIME, first).hasSize(2)
                    .doesNotContainAnyElementsOf(first);
        }
    }

    @Test
    @Timeout(60)
    void aBackendOlderThanMaxLifetimeIsClosedWhenItsTransactionEndsNotBefore() throws Exception {
        String user = "md5_u";
        try (Connection c = Clients.proxy(port, user, DB); Connection d = Clients.direct(DB)) {
            c.setAutoCommit(false);
            int pid = Integer.parseInt(one(c, "select pg_backend_pid()"));
            Thread.sleep(MAX_LIFETIME.plus(MAINTENANCE).plusMillis(500).toMillis());
            assertThat(one(c, "select pg_backend_pid()")).as("inside the transaction, past max-lifetime")
                    .isEqualTo(String.valueOf(pid));
            assertThat(Clients.serverPids(d, user, DB)).contains(pid);
            c.commit();
            List<Integer> after = Clients.await(Duration.ofSeconds(2), () -> Clients.serverPids(d, user, DB),
                    pids -> !pids.contains(pid));
            assertThat(after).as("backends once the transaction ended").doesNotContain(pid);
            c.setAutoCommit(true);
            assertThat(one(c, "select pg_backend_pid()")).as("the client goes on, on another backend")
                    .isNotEqualTo(String.valueOf(pid));
        }
    }
}
