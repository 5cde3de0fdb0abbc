package dev.pgferry.observability;

import dev.pgferry.testing.TestPorts;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.HashMap;
import java.util.Map;

/**
 * The observability tests' pgferry: PostgreSQL and HTTP ports of its own, 200 above the run's base ports (so a run
 * started with other base ports, e.g. {@code _TEST_PGFERRY_LISTEN_PORT}, moves them too), and a 2 s backend check interval so readiness follows an outage within seconds.
 * One profile for all of them, so Quarkus starts once.
 */
public class ObservabilityProfile implements QuarkusTestProfile {
    public static final int PG_PORT = TestPorts.listenPort(200);
    public static final int HTTP_PORT = TestPorts.httpTestPort(200);

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> m = new HashMap<>();
        m.put("pgferry.listen-port", Integer.toString(PG_PORT));
        m.put("quarkus.http.test-port", Integer.toString(HTTP_PORT));
        m.put("pgferry.health.backend-check-interval", "2s");
        return m;
    }
}
