package dev.pgferry.differential;

import static dev.pgferry.differential.Family.DDL;
import static dev.pgferry.differential.Family.DISCARD;
import static dev.pgferry.differential.Family.DO;
import static dev.pgferry.differential.Family.ERROR;
import static dev.pgferry.differential.Family.FLUSH;
import static dev.pgferry.differential.Family.NAMED;
import static dev.pgferry.differential.Family.PIPELINE;
import static dev.pgferry.differential.Family.RESET;
import static dev.pgferry.differential.Family.SAVEPOINT;
import static dev.pgferry.differential.Family.SET;
import static dev.pgferry.differential.Family.SET_CONFIG;
import static dev.pgferry.differential.Family.SET_LOCAL;
import static dev.pgferry.differential.Family.SIMPLE;
import static dev.pgferry.differential.Family.STARTUP;
import static dev.pgferry.differential.Family.TRANSACTION;
import static dev.pgferry.differential.Family.UNNAMED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * pgferry in session mode against PostgreSQL itself, over the raw wire protocol: the same scenarios as
 * {@link TransactionModeDifferentialTest}, a pool of {@value #CLIENTS} (one backend per client for its whole
 * connection). Clients that reconnect get a backend an earlier client left, which must behave as a fresh session.
 *
 * <p>A long run: {@code ./mvnw test -Dtest='SessionModeDifferentialTest#longRun' -Ddiff.steps=1000000
 * -Ddiff.run.steps=2000} ({@code -Ddiff.seed=N}, {@code -Ddiff.families=all,-named}).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(SessionModeDifferentialTest.SessionMode.class)
class SessionModeDifferentialTest {
    static final int CLIENTS = 3;

    public static class SessionMode implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.mode", "session",
                    "pgferry.pool.size", String.valueOf(CLIENTS),
                    "pgferry.pool.query-wait-timeout", "10s",
                    "pgferry.auth.type", "md5");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private void check(String name, Set<Family> families, int steps) throws Exception {
        String proxyTable = "diff.sess_" + name + "_p";
        String directTable = "diff.sess_" + name + "_d";
        PostgresFixture pg = PostgresFixture.get();
        String failure = Differential.check(new Differential.Property("session-mode " + name, CLIENTS, families,
                        Param.ALL, steps),
                () -> new WireArm("127.0.0.1", port, Tables.USER, Tables.PASSWORD, Tables.DATABASE, proxyTable),
                () -> new WireArm(pg.host(), pg.port(), Tables.USER, Tables.PASSWORD, Tables.DATABASE, directTable));
        assertThat(failure).as("divergence").isNull();
    }

    @Test
    void simpleQueriesSetResetAndTransactions() throws Exception {
        check("simple", EnumSet.of(SIMPLE, SET, SET_LOCAL, RESET, TRANSACTION, SAVEPOINT, ERROR), 400);
    }

    @Test
    void unnamedStatementsPipelinesAndFlush() throws Exception {
        check("extended", EnumSet.of(UNNAMED, PIPELINE, FLUSH, SET, SET_LOCAL, RESET, TRANSACTION, SAVEPOINT, ERROR), 400);
    }

    @Test
    void discardSetConfigAndDoBlocks() throws Exception {
        check("discard", EnumSet.of(SIMPLE, UNNAMED, DISCARD, SET_CONFIG, DO, SET, RESET, TRANSACTION, ERROR), 400);
    }

    @Test
    void namedStatementsRunManyTimesUnderDdl() throws Exception {
        check("named", EnumSet.of(SIMPLE, NAMED, DDL, TRANSACTION, SAVEPOINT, ERROR), 400);
    }

    @Test
    void namedStatementsWithDiscardInFailingQueries() throws Exception {
        check("named_discard", EnumSet.of(SIMPLE, NAMED, DDL, TRANSACTION, ERROR, DISCARD), 400);
    }

    @Test
    void startupParameters() throws Exception {
        check("startup", EnumSet.of(SIMPLE, UNNAMED, STARTUP, SET, SET_LOCAL, TRANSACTION), 300);
    }

    @Test
    void startupParametersAndResetAll() throws Exception {
        check("startup_reset", EnumSet.of(SIMPLE, STARTUP, SET, RESET, DISCARD, TRANSACTION), 300);
    }

    @Test
    void everything() throws Exception {
        check("all", Family.all(), 1000);
    }

    /** Only with {@code -Ddiff.steps}: every family, or those {@code -Ddiff.families} names. */
    @Test
    @EnabledIfSystemProperty(named = "diff.steps", matches = ".+")
    void longRun() throws Exception {
        check("long", Family.all(), 1000);
    }
}
