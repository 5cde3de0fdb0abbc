package dev.pgferry.robustness;

import java.util.Map;

/**
 * Like {@code PostgresResource} (the default backend is the fixture's PostgreSQL), plus database
 * {@link MisbehavingServer#CANCEL_NEVER_CLOSED} with a pool of one backend on a {@link MisbehavingServer} started here,
 * whose server never closes a cancel connection.
 */
public class CancelNeverClosedResource extends MisbehavingServerResource {
    @Override
    protected Map<String, String> databases(int port) {
        String db = "pgferry.databases." + MisbehavingServer.CANCEL_NEVER_CLOSED;
        return Map.of(db + ".host", "127.0.0.1", db + ".port", Integer.toString(port), db + ".pool-size", "1");
    }
}
