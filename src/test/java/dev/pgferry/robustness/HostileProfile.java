package dev.pgferry.robustness;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * A short login timeout, so slowloris clients are cut within the test's patience. pgferry listens on a port of its
 * own ({@link Clients#LISTEN_PORT}, 100 above the run's base port) and a random HTTP port.
 */
public class HostileProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.client-login-timeout", "3s",
                "pgferry.listen-port", Integer.toString(Clients.LISTEN_PORT),
                "quarkus.http.test-port", "0");
    }
}
