package dev.pgferry.robustness;

import dev.pgferry.testing.PostgresFixture;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Like {@code PostgresResource} (the default backend is the fixture's PostgreSQL), plus database
 * {@link MisbehavingServer#CANCEL_NEVER_CLOSED} with a pool of one backend on a {@link MisbehavingServer} started here,
 * whose server never closes a cancel connection.
 */
public class CancelNeverClosedResource implements QuarkusTestResourceLifecycleManager {
    private MisbehavingServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = new MisbehavingServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PostgresFixture pg = PostgresFixture.get();
        String db = "pgferry.databases." + MisbehavingServer.CANCEL_NEVER_CLOSED;
        return Map.of(
                "pgferry.backend.host", pg.host(),
                "pgferry.backend.port", Integer.toString(pg.port()),
                "pgferry.auth.users-file", pg.usersFile().toString(),
                db + ".host", "127.0.0.1",
                db + ".port", Integer.toString(server.port()),
                db + ".pool-size", "1",
                "pgferry.listen-port", Integer.toString(Clients.LISTEN_PORT),
                "quarkus.http.test-port", "0");
    }

    @Override
    public void stop() {
        if (server != null) {
            try {
                server.close();
            } catch (IOException e) {
                // stopping anyway
            }
        }
    }
}
