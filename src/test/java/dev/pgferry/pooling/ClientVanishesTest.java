package dev.pgferry.pooling;

import static dev.pgferry.pooling.SharedBackend.copyData;
import static dev.pgferry.pooling.SharedBackend.flush;
import static dev.pgferry.pooling.SharedBackend.read;
import static dev.pgferry.pooling.SharedBackend.ready;
import static dev.pgferry.pooling.SharedBackend.types;
import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pooling.SharedBackend.Other;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client whose connection drops (no Terminate) while it holds the one backend of {@code postgres/postgres}: the
 * backend is rolled back or discarded before the other client, already waiting for it, gets one; that client sees
 * no open transaction ({@code txid_current_if_assigned()} null, {@code now() = statement_timestamp()}) and none of
 * the vanished client's rows.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class ClientVanishesTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String TABLE = "pooling_vanish";

    SharedBackend shared;

    @BeforeEach
    void table() throws Exception {
        Clients.directExec(SharedBackend.DB, "drop table if exists " + TABLE,
                "create table " + TABLE + " (id int primary key, t text)");
        shared = new SharedBackend(port, () -> {});
    }

    interface Holding {
        void start(RawWireClient a) throws Exception;
    }

    /** A holds the backend as {@code holding} leaves it, B asks meanwhile, A drops: B's answer is clean. */
    private void vanishWhile(Holding holding) throws Exception {
        try (RawWireClient a = shared.proxy(); RawWireClient bc = shared.proxy()) {
            holding.start(a);
            Other b = new Other(bc);
            b.askWhileHeld();
            a.drop();
            b.answered();
            b.servedPromptly();
        }
        try (Connection d = Clients.direct(SharedBackend.DB)) {
            assertThat(Clients.count(d, "select count(*) from " + TABLE)).as("rows of the vanished client").isZero();
            assertThat(Clients.count(d, "select count(*) from pg_stat_activity where usename = '" + SharedBackend.USER
                    + "' and state like 'idle in transaction%'")).isZero();
        }
    }

    @Test
    @Timeout(30)
    void inATransaction() throws Exception {
        vanishWhile(a -> assertThat(a.exchange(1, query("begin"), query("insert into " + TABLE + " values (1, 'a')")))
                .endsWith(ready('T')));
    }

    @Test
    @Timeout(30)
    void inAFailedTransaction() throws Exception {
        vanishWhile(a -> assertThat(a.exchange(3, query("begin"), query("insert into " + TABLE + " values (1, 'a')"),
                query("select 1/0"))).endsWith(ready('E')));
    }

    @Test
    @Timeout(30)
    void inTheMiddleOfCopyFromStdin() throws Exception {
        vanishWhile(a -> {
            a.send(query("copy " + TABLE + " (id, t) from stdin"));
            assertThat(types(read(a, 1))).isEqualTo("G");
            a.send(copyData("1\tone\n"), copyData("2\ttwo\n"));
        });
    }

    @Test
    @Timeout(30)
    void afterAnExecuteFlushedButNotSynced() throws Exception {
        vanishWhile(a -> {
            a.send(parse("", "insert into " + TABLE + " values (1, 'a')"), bind(""), execute(), flush());
            assertThat(types(read(a, 3))).isEqualTo("12C");
        });
    }

    @Test
    @Timeout(30)
    void whileTheServerSkipsToSyncAfterAnError() throws Exception {
        vanishWhile(a -> {
            a.send(parse("", "insert into " + TABLE + " values (1, 'a')"), bind(""), execute(),
                    parse("", "select 1/0"), bind(""), execute(), flush());
            assertThat(types(read(a, 5))).isEqualTo("12C1E");
            a.send(parse("", "select 2"), bind(""), execute(), flush()); // skipped by the server
        });
    }
}
