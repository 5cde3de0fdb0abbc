package dev.pgferry.pooling;

import static dev.pgferry.pooling.SharedBackend.bindPortal;
import static dev.pgferry.pooling.SharedBackend.execute;
import static dev.pgferry.pooling.SharedBackend.flush;
import static dev.pgferry.pooling.SharedBackend.functionCall;
import static dev.pgferry.pooling.SharedBackend.read;
import static dev.pgferry.pooling.SharedBackend.ready;
import static dev.pgferry.pooling.SharedBackend.types;
import static dev.pgferry.pooling.SharedBackend.values;
import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.closeStatement;
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
import java.sql.Connection;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Extended-protocol flows that span several round trips (row-limited Execute, Flush before Sync, an error in the
 * middle of a pipeline), notices, and the function-call protocol, over the one backend of {@code postgres/postgres}
 * shared by two clients: each transcript is PostgreSQL's own, the other client waits while the first holds the
 * backend and is served cleanly right after.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class ExtendedFlowsTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String ROWS = "select g from generate_series(1, 5) g";

    SharedBackend shared;

    @BeforeEach
    void setUp() {
        shared = new SharedBackend(port, () -> {});
    }

    @Test
    @Timeout(30)
    void rowLimitedExecutesOfANamedPortalInsideATransaction() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, query("begin"));
            b.askWhileHeld();
            all.addAll(a.exchange(1, parse("", ROWS), bindPortal("c1", ""), execute("c1", 2), sync()));
            all.addAll(a.exchange(1, execute("c1", 2), sync()));
            all.addAll(a.exchange(1, execute("c1", 2), sync()));
            all.addAll(a.exchange(1, execute("c1", 2), sync()));
            all.addAll(a.exchange(1, query("commit")));
            b.answered();
            return all;
        });
        assertThat(types(t)).isEqualTo("CZ" + "12DDsZ" + "DDsZ" + "DCZ" + "CZ" + "CZ");
        assertThat(t.get(7)).isEqualTo(ready('T'));
    }

    /** Outside a transaction the Sync ends the implicit one, and PostgreSQL drops the suspended portal with it. */
    @Test
    @Timeout(30)
    void aSuspendedUnnamedPortalIsGoneAfterSyncOutsideATransaction() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, parse("", ROWS), bind(""), execute("", 2), sync());
            b.servedPromptly();
            all.addAll(a.exchange(1, execute("", 2), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("12DDsZ" + "EZ");
        assertThat(t.get(5)).isEqualTo(ready('I'));
        assertThat(t.get(6).field('C')).isEqualTo("34000");
    }

    /** A Flush with nothing outstanding: nothing comes back, and it takes no backend from the other client. */
    @Test
    @Timeout(30)
    void aLoneFlushIsAnsweredWithNothingAndHoldsNoBackend() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            a.send(flush());
            b.servedPromptly();
            return a.exchange(1, query("select 'after'"));
        });
        assertThat(types(t)).isEqualTo("TDCZ");
    }

    /** Parse/Bind/Execute/Flush: the results come before any Sync, and the backend stays until the Sync's answer. */
    @Test
    @Timeout(30)
    void flushGetsTheResultsAndTheBackendStaysUntilSync() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            a.send(parse("", "select 'flushed'"), bind(""), execute(), flush());
            List<Msg> all = read(a, 4);
            b.askWhileHeld();
            a.send(parse("", "select 1/0"), bind(""), execute(), flush());
            all.addAll(read(a, 2)); // the constant division fails when Bind plans it
            all.addAll(a.exchange(1, sync()));
            b.answered();
            return all;
        });
        assertThat(types(t)).isEqualTo("12DC" + "1E" + "Z");
        assertThat(values(t.get(2))).containsExactly("flushed");
        assertThat(t.get(6)).isEqualTo(ready('I'));
    }

    /** Three Parse/Bind/Execute, the second failing, one Sync: PostgreSQL skips the third and answers the Sync. */
    @Test
    @Timeout(30)
    void anErrorInTheMiddleOfAPipelineSkipsToSync() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, parse("", "select 1"), bind(""), execute(),
                    parse("", "select 1/0"), bind(""), execute(),
                    parse("", "select 3"), bind(""), execute(), sync());
            b.servedPromptly();
            // inside a transaction, with named statements: the one the backend already has is answered by pgferry
            all.addAll(a.exchange(1, query("begin")));
            b.askWhileHeld();
            all.addAll(a.exchange(1, parse("s1", "select 1"), bind("s1"), execute(),
                    parse("s2", "select 1/0"), bind("s2"), execute(),
                    parse("s3", "select 3"), bind("s3"), execute(), sync()));
            all.addAll(a.exchange(1, query("rollback")));
            b.answered();
            all.addAll(a.exchange(1, bind("s1"), execute(), bind("s3"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("12DC1EZ" + "CZ" + "12DC1EZ" + "CZ" + "2DCEZ");
        assertThat(t.get(5).field('C')).isEqualTo("22012");
        assertThat(t.get(15)).isEqualTo(ready('E'));
        assertThat(t.get(21).field('C')).as("s3 was skipped, never prepared").isEqualTo("26000");
    }

    /**
     * The error is already known when the client sends more before its Sync (it used Flush, or its pipeline crossed
     * the error on the wire): PostgreSQL skips those messages too and answers none of them, including a Close or a
     * Parse of a statement pgferry's backend already has, and a simple Query.
     */
    @Test
    @Timeout(30)
    void messagesSentAfterAnErrorArrivedAreSkippedUntilSync() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, parse("keep", "select 'keep'"), parse("s3", "select 3"), sync());
            all.addAll(a.exchange(1, closeStatement("s3"), sync()));
            a.send(parse("", "select 1/0"), bind(""), execute(), flush());
            all.addAll(read(a, 2));
            b.askWhileHeld();
            a.send(closeStatement("keep"), parse("s3", "select 3"), bind("s3"), execute(), query("select 'skipped'"),
                    flush());
            all.addAll(a.exchange(1, sync()));
            b.answered();
            all.addAll(a.exchange(1, bind("keep"), execute(), sync()));
            all.addAll(a.exchange(1, bind("s3"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("11Z" + "3Z" + "1E" + "Z" + "2DCZ" + "EZ");
        assertThat(t.get(12).field('C')).as("s3 was skipped, never prepared").isEqualTo("26000");
    }

    @Test
    @Timeout(30)
    void aNoticeGoesToTheClientWhoseStatementRaisedIt() throws Exception {
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, query("begin"));
            b.askWhileHeld();
            all.addAll(a.exchange(1, query("do $$ begin raise notice 'for a only'; end $$")));
            all.addAll(a.exchange(1, parse("", "do $$ begin raise notice 'extended'; end $$"), bind(""), execute(),
                    sync()));
            all.addAll(a.exchange(1, query("commit")));
            b.answered(); // exactly its answer: no NoticeResponse in it
            return all;
        });
        assertThat(types(t)).isEqualTo("CZ" + "NCZ" + "12NCZ" + "CZ");
        assertThat(t.get(2).field('M')).isEqualTo("for a only");
        assertThat(t.get(7).field('M')).isEqualTo("extended");
    }

    @Test
    @Timeout(30)
    void functionCallsAreRelayedAndAnsweredAsByPostgres() throws Exception {
        int int4pl;
        int int4div;
        try (Connection d = Clients.direct(SharedBackend.DB)) {
            int4pl = Integer.parseInt(Clients.one(d, "select 'int4pl'::regproc::oid"));
            int4div = Integer.parseInt(Clients.one(d, "select 'int4div'::regproc::oid"));
        }
        List<Msg> t = shared.sameAsPostgres((a, b) -> {
            List<Msg> all = a.exchange(1, functionCall(int4pl, "2", "3"));
            b.servedPromptly();
            all.addAll(a.exchange(1, query("begin")));
            b.askWhileHeld();
            all.addAll(a.exchange(1, functionCall(int4div, "1", "0")));
            all.addAll(a.exchange(1, functionCall(int4pl, "2", "3")));
            all.addAll(a.exchange(1, query("rollback")));
            b.answered();
            return all;
        });
        assertThat(types(t)).isEqualTo("VZ" + "CZ" + "EZ" + "EZ" + "CZ");
        assertThat(new String(t.get(0).body(), 4, 1, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("5");
        assertThat(t.get(4).field('C')).isEqualTo("22012");
        assertThat(t.get(6).field('C')).isEqualTo("25P02");
    }
}
