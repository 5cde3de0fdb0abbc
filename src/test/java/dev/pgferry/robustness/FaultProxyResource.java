package dev.pgferry.robustness;

import dev.pgferry.testing.PostgresFixture;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Like {@code PostgresResource}, but pgferry's backend is the {@link FaultProxy} port (the test class starts the
 * proxy itself, forwarding to the fixture's PostgreSQL). Short pool wait and connect timeouts make outages quick.
 */
public class FaultProxyResource implements QuarkusTestResourceLifecycleManager {
    static final int QUERY_WAIT_SECONDS = 2;

    @Override
    public Map<String, String> start() {
        PostgresFixture pg = PostgresFixture.get();
        return Map.of(
                "pgferry.backend.host", "127.0.0.1",
                "pgferry.backend.port", Integer.toString(FaultProxy.sharedPort()),
                "pgferry.auth.users-file", pg.usersFile().toString(),
                "pgferry.pool.query-wait-timeout", QUERY_WAIT_SECONDS + "s",
                "pgferry.backend.connect-timeout", "2s",
                "pgferry.listen-port", Integer.toString(Clients.LISTEN_PORT),
                "quarkus.http.test-port", "0");
    }

    @Override
    public void stop() {
        // the proxy belongs to the test class; the cluster to the fixture
    }
}
