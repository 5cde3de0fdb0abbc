package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code pgferry.pool.reserve-size=0} (the default, as PgBouncer's reserve_pool_size) with a short
 * {@code reserve-timeout}: a client waiting four times that long still waits for the pool's one backend.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ReservePoolOffTest.NoReserve.class)
class ReservePoolOffTest {
    static final String DB = "postgres";

    public static class NoReserve implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.size", "1",
                    "pgferry.pool.reserve-size", "0",
                    "pgferry.pool.reserve-timeout", "500ms",
                    "pgferry.pool.query-wait-timeout", "10s",
                    "pgferry.auth.type", "md5");
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    @Timeout(60)
    void withReserveSizeZeroAClientWaitingPastReserveTimeoutGetsNoSecondBackend() throws Exception {
        try (Connection admin = Clients.proxy(port, "postgres", "pgferry", "preferQueryMode", "simple")) {
            Map<String, String> config = new HashMap<>();
            AdminConsoleRows.rows(admin, "SHOW CONFIG").forEach(r -> config.put(r.get("key"), r.get("value")));
            assertThat(config).containsEntry("pgferry.pool.reserve-size", "0")
                    .containsEntry("pgferry.pool.reserve-timeout", "500ms");
        }
        String user = "md5_u";
        try (Connection d = Clients.direct(DB); Connection a = Clients.proxy(port, user, DB);
                Connection b = Clients.proxy(port, user, DB)) {
            a.setAutoCommit(false);
            int pidOfA = Integer.parseInt(one(a, "select pg_backend_pid()"));
            CompletableFuture<String> waiting = ReservePoolTest.query(b, "select pg_backend_pid()");
            Thread.sleep(2_000);
            assertThat(waiting).isNotDone();
            assertThat(Clients.serverPids(d, user, DB)).containsExactly(pidOfA);
            a.commit();
            assertThat(waiting.get(2, TimeUnit.SECONDS)).isEqualTo(String.valueOf(pidOfA));
        }
    }
}
