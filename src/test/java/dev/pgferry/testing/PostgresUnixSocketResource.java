package dev.pgferry.testing;

import java.util.HashMap;
import java.util.Map;

/**
 * Like {@link PostgresResource}, but pgferry reaches the fixture's server through its Unix-domain socket
 * ({@code pgferry.backend.host} = the socket's directory). A cluster in a container has no socket here: then the
 * backend stays TCP and tests check {@link PostgresFixture#isLocal()} first.
 */
public class PostgresUnixSocketResource extends PostgresResource {

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        PostgresFixture pg = PostgresFixture.get();
        if (pg.isLocal()) {
            config.put("pgferry.backend.host", pg.local().socketDirectory().toString());
        }
        return config;
    }
}
