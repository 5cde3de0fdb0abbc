package dev.pgferry.pooling;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** {@code pgferry.pool.listen=pin}: LISTEN pins the client to its backend, as before the fan-out existed. */
public class ListenPinProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.pool.listen", "pin");
    }
}
