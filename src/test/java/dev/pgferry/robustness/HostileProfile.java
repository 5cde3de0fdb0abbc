package dev.pgferry.robustness;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** A short login timeout, so slowloris clients are cut within the test's patience. */
public class HostileProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.client-login-timeout", "3s");
    }
}
