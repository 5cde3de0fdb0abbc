package dev.pgferry.robustness;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** {@link OneBackendProfile}, and every lease starts with the liveness check (an empty query): check-delay 0. */
public class OneCheckedBackendProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.pool.size", "1", "pgferry.pool.query-wait-timeout", "10s",
                "pgferry.pool.check-delay", "0s");
    }
}
