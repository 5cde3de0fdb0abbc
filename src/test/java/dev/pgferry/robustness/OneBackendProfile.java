package dev.pgferry.robustness;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * One backend per (database, user): every client of a pool leases the same server connection. Clients wait for it up
 * to 10 s (FaultProxyResource's 2 s is for outages), so a busy test machine does not fail a login.
 */
public class OneBackendProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.pool.size", "1", "pgferry.pool.query-wait-timeout", "10s");
    }
}
