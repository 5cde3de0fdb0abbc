package dev.pgferry.robustness;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * A short login timeout, so slowloris clients are cut within the test's patience. pgferry listens on its own
 * port ({@link Clients#LISTEN_PORT}) and a random HTTP port: other worktrees' tests on this machine bind 16432/18081.
 */
public class HostileProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.client-login-timeout", "3s",
                "pgferry.listen-port", Integer.toString(Clients.LISTEN_PORT),
                "quarkus.http.test-port", "0");
    }
}
