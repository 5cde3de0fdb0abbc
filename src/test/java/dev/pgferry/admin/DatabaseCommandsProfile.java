package dev.pgferry.admin;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * A configured database entry for SHOW DATABASES ({@code aliased}: the server's {@code bench}, a pool of 3, session
 * mode), a reserve of 2 and a short PAUSE timeout. The listen port is left to the test configuration, as in {@link PauseProfile}.
 */
public class DatabaseCommandsProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.admin.pause-timeout", "4s", "pgferry.pool.reserve-size", "2",
                "pgferry.databases.aliased.dbname", "bench",
                "pgferry.databases.aliased.pool-size", "3",
                "pgferry.databases.aliased.pool-mode", "session");
    }
}
