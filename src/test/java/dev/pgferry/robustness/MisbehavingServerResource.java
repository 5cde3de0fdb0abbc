package dev.pgferry.robustness;

import dev.pgferry.testing.PostgresFixture;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Like {@code PostgresResource} (the default backend is the fixture's PostgreSQL), plus one database per
 * {@link MisbehavingServer.Misbehaviour} whose server is a {@link MisbehavingServer} started here, before pgferry.
 * Subclasses name other databases of that server ({@link #databases(int)}).
 */
public class MisbehavingServerResource implements QuarkusTestResourceLifecycleManager {
    private MisbehavingServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = new MisbehavingServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PostgresFixture pg = PostgresFixture.get();
        Map<String, String> m = new HashMap<>();
        m.put("pgferry.backend.host", pg.host());
        m.put("pgferry.backend.port", Integer.toString(pg.port()));
        m.put("pgferry.auth.users-file", pg.usersFile().toString());
        m.putAll(databases(server.port()));
        m.put("pgferry.listen-port", Integer.toString(Clients.LISTEN_PORT));
        m.put("quarkus.http.test-port", "0");
        return m;
    }

    /** The pgferry.databases entries served by the misbehaving server on {@code port}. */
    protected Map<String, String> databases(int port) {
        Map<String, String> m = new HashMap<>();
        for (MisbehavingServer.Misbehaviour b : MisbehavingServer.Misbehaviour.values()) {
            m.put("pgferry.databases." + b.database + ".host", "127.0.0.1");
            m.put("pgferry.databases." + b.database + ".port", Integer.toString(port));
        }
        return m;
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
