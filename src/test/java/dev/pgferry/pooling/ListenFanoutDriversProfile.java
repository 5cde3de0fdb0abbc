package dev.pgferry.pooling;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** LISTEN fanned out (the default) in transaction mode (the default) through a pool of two backends; else defaults. */
public class ListenFanoutDriversProfile implements QuarkusTestProfile {
    static final int POOL_SIZE = 2;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "pgferry.pool.size", String.valueOf(POOL_SIZE),
                "pgferry.pool.query-wait-timeout", "30s");
    }
}
