package dev.pgferry.observability;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.HashMap;
import java.util.Map;

/**
 * The observability tests' pgferry: its own PostgreSQL and HTTP ports (other test runs on this machine hold the
 * defaults 16432 and 18081), and a 2 s backend check interval so readiness follows an outage within seconds.
 * One profile for all of them, so Quarkus starts once.
 */
public class ObservabilityProfile implements QuarkusTestProfile {
    public static final int PG_PORT = 16632;
    public static final int HTTP_PORT = 18281;

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> m = new HashMap<>();
        m.put("pgferry.listen-port", Integer.toString(PG_PORT));
        m.put("quarkus.http.test-port", Integer.toString(HTTP_PORT));
        m.put("pgferry.health.backend-check-interval", "2s");
        return m;
    }
}
