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
 * pgferry in transaction mode against PostgreSQL itself, over the raw wire protocol: {@value #CLIENTS} logical
 * clients, each with a connection through pgferry and one straight to the server, play random scenarios (see
 * {@link Differential}); after every op each client's observations must be equal on both arms.
 *
 * <p>The pool has {@value #CLIENTS} backends, not 1: the harness drives one client at a time and switches only
 * between transactions, so one backend serves every client in turn (a lease rotation at nearly every block) — but a
 * client that pins its session ({@code set_config()}) keeps its backend to its end, and with a pool of 1 the other
 * clients would then wait forever.
 *
 * <p>A long run: {@code ./mvnw test -Dtest='TransactionModeDifferentialTest#longRun' -Ddiff.steps=1000000
 * -Ddiff.run.steps=2000 -Ddiff.families=all,-named} ({@code -Ddiff.seed=N} for another one; a failing run prints
 * its own seed, steps and families).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TransactionModeDifferentialTest.TransactionMode.class)
class TransactionModeDifferentialTest {
    static final int CLIENTS = 3;

    public static class TransactionMode implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.mode", "transaction",
                    "pgferry.pool.size", String.valueOf(CLIENTS),
                    "pgferry.pool.query-wait-timeout", "10s",
                    "pgferry.auth.type", "md5");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private void check(String name, Set<Family> families, int steps) throws Exception {
        String proxyTable = "diff.tx_" + name + "_p";
        String directTable = "diff.tx_" + name + "_d";
        PostgresFixture pg = PostgresFixture.get();
        String failure = Differential.check(new Differential.Property("transaction-mode " + name, CLIENTS, families,
                        Param.ALL, steps),
                () -> new WireArm("127.0.0.1", port, Tables.USER, Tables.PASSWORD, Tables.DATABASE, proxyTable),
                () -> new WireArm(pg.host(), pg.port(), Tables.USER, Tables.PASSWORD, Tables.DATABASE, directTable));
        assertThat(failure).as("divergence").isNull();
    }

    // ---- what agrees today -------------------------------------------------------------------------------

    @Test
    void simpleQueriesSetsAndTransactions() throws Exception {
        check("simple", EnumSet.of(SIMPLE, SET, SET_LOCAL, TRANSACTION, SAVEPOINT, DO), 400);
    }

    @Test
    void unnamedStatementsPipelinesAndFlush() throws Exception {
        check("extended", EnumSet.of(UNNAMED, PIPELINE, FLUSH, SET, SET_LOCAL, TRANSACTION, SAVEPOINT, ERROR), 400);
    }

    @Test
    void namedStatementsRunManyTimesUnderDdl() throws Exception {
        check("named", EnumSet.of(SIMPLE, NAMED, DDL, TRANSACTION, SAVEPOINT, ERROR), 400);
    }

    @Test
    void discardSetConfigAndDoBlocks() throws Exception {
        check("discard", EnumSet.of(SIMPLE, UNNAMED, DISCARD, SET_CONFIG, DO, SET, RESET, TRANSACTION, ERROR), 400);
    }

    @Test
    void startupParameters() throws Exception {
        check("startup", EnumSet.of(SIMPLE, UNNAMED, STARTUP, SET, SET_LOCAL, TRANSACTION), 300);
    }

    // ---- known divergences (see each reason) -----------------------------------------------------------

    @Test
    void simpleQueriesWithErrorsAndResets() throws Exception {
        check("simple_reset", EnumSet.of(SIMPLE, SET, SET_LOCAL, RESET, TRANSACTION, SAVEPOINT, ERROR), 400);
    }

    @Test
    void extendedQueriesWithResetsThatRollBack() throws Exception {
        check("extended_reset", EnumSet.of(UNNAMED, PIPELINE, FLUSH, SET, SET_LOCAL, RESET, TRANSACTION, SAVEPOINT, ERROR),
                400);
    }

    @Test
    void namedStatementsWithDiscardInFailingQueries() throws Exception {
        check("named_discard", EnumSet.of(SIMPLE, NAMED, DDL, TRANSACTION, ERROR, DISCARD), 400);
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
