package dev.pgferry.pooling;

import static dev.pgferry.pooling.SharedBackend.copyData;
import static dev.pgferry.pooling.SharedBackend.copyDone;
import static dev.pgferry.pooling.SharedBackend.copyFail;
import static dev.pgferry.pooling.SharedBackend.flush;
import static dev.pgferry.pooling.SharedBackend.read;
import static dev.pgferry.pooling.SharedBackend.ready;
import static dev.pgferry.pooling.SharedBackend.types;
import static dev.pgferry.pooling.SharedBackend.values;
import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * COPY both ways over the one backend of {@code postgres/postgres} shared by two clients: the transcript of the
 * copying client is PostgreSQL's own, the backend stays with it from CopyInResponse/CopyOutResponse to the
 * ReadyForQuery that ends the transaction (the other client waits meanwhile), and comes back clean after it.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class CopyRelayTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String TABLE = "pooling_copy";
    static final String COPY_IN = "copy " + TABLE + " (id, t) from stdin";
    static final String COUNT = "select count(*), coalesce(string_agg(t, ',' order by id), '') from " + TABLE;

    SharedBackend shared;

    @BeforeEach
    void table() throws Exception {
        Clients.directExec(SharedBackend.DB, "drop table if exists " + TABLE,
                "create table " + TABLE + " (id int primary key, t text)");
        shared = new SharedBackend(port, () -> SharedBackend.truncate(TABLE));
    }

    @Test
    @Timeout(30)
    void copyFromStdinBySimpleQueryHoldsTheBackendUntilItsReadyForQuery() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            a.send(query(COPY_IN));
            List<Msg> all = read(a, 1);
            b.askWhileHeld();
            a.send(copyData("1\tone\n"), copyData("2\ttwo\n"), copyDone());
            all.addAll(a.readUntilReady());
            b.answered();
            all.addAll(a.exchange(1, query(COUNT)));
            return all;
        });
        assertThat(types(t)).isEqualTo("GCZTDCZ");
        assertThat(values(t.get(4))).containsExactly("2", "one,two");
    }

    @Test
    @Timeout(30)
    void copyInsideATransactionThenCopyOutOfItHoldTheBackendUntilCommit() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, query("begin"));
            b.askWhileHeld();
            a.send(query(COPY_IN));
            all.addAll(read(a, 1));
            a.send(copyData("1\tone\n2\ttwo\n"), copyDone());
            all.addAll(a.readUntilReady());
            all.addAll(a.exchange(1, query("copy (select id, t from " + TABLE + " order by id) to stdout")));
            all.addAll(a.exchange(1, query("commit")));
            b.answered();
            return all;
        });
        assertThat(types(t)).isEqualTo("CZ" + "GCZ" + "HddcCZ" + "CZ");
        assertThat(t.get(4)).isEqualTo(ready('T'));
    }

    /**
     * libpq's way with PQexecParams: Parse/Bind/Execute/Sync in one go, then the data, CopyDone and another Sync.
     * PostgreSQL ignores a Sync that arrives in copy-in mode, so the two Syncs get one ReadyForQuery between them.
     */
    @Test
    @Timeout(30)
    void extendedCopyFromStdinWithASyncSentBeforeTheDataGetsOneReadyForQuery() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            a.send(parse("", COPY_IN), bind(""), execute(), sync());
            List<Msg> all = read(a, 3);
            b.askWhileHeld();
            a.send(copyData("1\tone\n"), copyDone(), sync());
            all.addAll(a.readUntilReady());
            b.answered();
            all.addAll(a.exchange(1, query(COUNT)));
            return all;
        });
        assertThat(types(t)).isEqualTo("12G" + "CZ" + "TDCZ");
        assertThat(values(t.get(6))).containsExactly("1", "one");
    }

    @Test
    @Timeout(30)
    void extendedCopyOutInsideATransaction() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, query("begin"));
            b.askWhileHeld();
            all.addAll(a.exchange(1, parse("", "copy (select g, 'r' || g from generate_series(1, 3) g) to stdout"),
                    bind(""), execute(), sync()));
            all.addAll(a.exchange(1, query("commit")));
            b.answered();
            return all;
        });
        assertThat(types(t)).isEqualTo("CZ" + "12HdddcCZ" + "CZ");
    }

    /**
     * A bad row ends the COPY with ErrorResponse and ReadyForQuery while the client still sends: the CopyData and
     * CopyDone that follow are ignored by PostgreSQL and answered by nothing. They must not take the backend from
     * the other client, which is served at once.
     */
    @Test
    @Timeout(30)
    void copyDataAfterTheServerEndedACopyWithAnErrorNeedsNoBackend() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            a.send(query(COPY_IN));
            List<Msg> all = read(a, 1);
            a.send(copyData("1\tone\n"), copyData("x\tbad\n"));
            all.addAll(a.readUntilReady());
            a.send(copyData("3\tthree\n"), copyDone()); // what the client had on its way
            Thread.sleep(100);
            b.servedPromptly();
            all.addAll(a.exchange(1, query(COUNT)));
            return all;
        });
        assertThat(types(t)).isEqualTo("GEZ" + "TDCZ");
        assertThat(t.get(1).field('C')).isEqualTo("22P02");
        assertThat(values(t.get(4))).containsExactly("0", "");
    }

    /** The same bad row with COPY run by Parse/Bind/Execute/Flush: the error skips the client's messages to Sync. */
    @Test
    @Timeout(30)
    void extendedCopyWithABadRowSkipsToSync() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            a.send(parse("", COPY_IN), bind(""), execute(), flush());
            List<Msg> all = read(a, 3);
            a.send(copyData("x\tbad\n"));
            all.addAll(read(a, 1));
            b.askWhileHeld();
            all.addAll(a.exchange(1, copyData("1\tone\n"), copyDone(), sync()));
            b.answered();
            all.addAll(a.exchange(1, query(COUNT)));
            return all;
        });
        assertThat(types(t)).isEqualTo("12GE" + "Z" + "TDCZ");
        assertThat(t.get(3).field('C')).isEqualTo("22P02");
    }

    @Test
    @Timeout(30)
    void copyFailInsideATransactionAbortsItAndTheBackendWaitsForTheRollback() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, query("begin"));
            b.askWhileHeld();
            a.send(query(COPY_IN));
            all.addAll(read(a, 1));
            all.addAll(a.exchange(1, copyData("1\tone\n"), copyFail("client gave up")));
            all.addAll(a.exchange(1, query("select 1")));
            all.addAll(a.exchange(1, query("rollback")));
            b.answered();
            all.addAll(a.exchange(1, query(COUNT)));
            return all;
        });
        assertThat(types(t)).isEqualTo("CZ" + "GEZ" + "EZ" + "CZ" + "TDCZ");
        assertThat(t.get(3).field('C')).isEqualTo("57014");
        assertThat(t.get(3).field('M')).isEqualTo("COPY from stdin failed: client gave up");
        assertThat(t.get(4)).isEqualTo(ready('E'));
        assertThat(t.get(5).field('C')).isEqualTo("25P02");
    }

    @Test
    @Timeout(30)
    void copyFailOutsideATransaction() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            a.send(query(COPY_IN));
            List<Msg> all = read(a, 1);
            b.askWhileHeld();
            all.addAll(a.exchange(1, copyData("1\tone\n"), copyFail("stop")));
            b.answered();
            return all;
        });
        assertThat(types(t)).isEqualTo("GEZ");
        assertThat(t.get(2)).isEqualTo(ready('I'));
    }
}
