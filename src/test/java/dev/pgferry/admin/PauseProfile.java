package dev.pgferry.admin;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * A short PAUSE timeout, so that a PAUSE outwaited by a held transaction answers within seconds. The listen
 * port is left to the test configuration ({@code %test.pgferry.listen-port}, or {@code _TEST_PGFERRY_LISTEN_PORT}).
 */
public class PauseProfile implements QuarkusTestProfile {
    static final int PAUSE_TIMEOUT_SECONDS = 4;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.admin.pause-timeout", PAUSE_TIMEOUT_SECONDS + "s");
    }
}
