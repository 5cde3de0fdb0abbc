package dev.pgferry.pooling;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** LISTEN fanned out (the default) through a pool of two backends, and a small bound for slow listeners. */
public class ListenFanoutProfile implements QuarkusTestProfile {
    static final int POOL_SIZE = 2;
    static final int MAX_QUEUED = 20;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "pgferry.pool.size", String.valueOf(POOL_SIZE),
                "pgferry.pool.query-wait-timeout", "30s",
                "pgferry.notify.max-queued", String.valueOf(MAX_QUEUED));
    }
}
