package dev.pgferry.pooling;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * One backend per (database, user), a short wait for it, and pinning refused (LISTEN too): every client of a pool
 * shares the same server connection, and a client that waits too long is told so quickly.
 */
public class TinyPoolProfile implements QuarkusTestProfile {
    static final int QUERY_WAIT_TIMEOUT_SECONDS = 2;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "pgferry.pool.size", "1",
                "pgferry.pool.query-wait-timeout", QUERY_WAIT_TIMEOUT_SECONDS + "s",
                "pgferry.pool.pinning", "reject",
                "pgferry.pool.listen", "pin", // LISTEN pins, so it is refused with the rest
                // the Vert.x PG client speaks SCRAM only with com.ongres.scram:scram-client on the classpath,
                // which the test classpath lacks (pgjdbc shades its own copy); MD5 needs nothing
                "pgferry.auth.type", "md5");
    }
}
