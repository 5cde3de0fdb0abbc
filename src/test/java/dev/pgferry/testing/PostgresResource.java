package dev.pgferry.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points a {@code @QuarkusTest} at the JVM's {@link PostgresFixture}: {@code @WithTestResource(PostgresResource.class)}.
 * The cluster outlives the application under test (one per JVM, stopped by the fixture's shutdown hook), so
 * {@link #stop()} leaves it running for the next test class.
 */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        PostgresFixture pg = PostgresFixture.get();
        return Map.of(
                "pgferry.backend.host", pg.host(),
                "pgferry.backend.port", Integer.toString(pg.port()),
                "pgferry.auth.users-file", pg.usersFile().toString());
    }

    @Override
    public void stop() {
        // the fixture's shutdown hook stops the cluster when the JVM exits
    }
}
