package dev.pgferry.admin;

import dev.pgferry.testing.TestPorts;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * One backend per pool, so that a second client waits for it, and a database {@code sessiondb} (the server's
 * {@code bench}) in session mode; a port of its own, 300 above the run's base port.
 */
public class SmallPoolProfile implements QuarkusTestProfile {
    static final int PG_PORT = TestPorts.listenPort(300);

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pgferry.listen-port", Integer.toString(PG_PORT),
                "quarkus.http.test-port", Integer.toString(TestPorts.httpTestPort(300)),
                "pgferry.pool.size", "1",
                "pgferry.databases.sessiondb.dbname", "bench",
                "pgferry.databases.sessiondb.pool-mode", "session");
    }
}
