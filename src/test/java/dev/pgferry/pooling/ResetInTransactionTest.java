package dev.pgferry.pooling;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * PostgreSQL is the oracle: the same script runs through pgferry (transaction mode, one backend, another client
 * taking turns on it) and straight on the server, and every value read must be the same.
 *
 * <ul>
 *   <li>A RESET inside a transaction returns the parameter to the client's startup value at once, not to the
 *       backend's own until the transaction ends.</li>
 *   <li>pgferry's own queries between a client's requests (a read-back after a SET) destroy the backend's unnamed
 *       statement; the client's is parsed again before it is bound.</li>
 * </ul>
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class ResetInTransactionTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "scram_u";
    static final String DB = "postgres";

    @Test
    @Timeout(60)
    void resetInsideATransactionGivesTheStartupValueAsPostgresDoes() throws Exception {
        List<String> direct = resetScript(PostgresFixture.get().port(), false);
        List<String> proxied = resetScript(port, true);
        assertThat(proxied).isEqualTo(direct);
        assertThat(direct).containsExactly(
                "5s", // begin; set; reset statement_timeout
                "5s", "a-startup", "256kB", // reset all
                "7s", // set, commit
                "7s", // begin; reset; rollback
                "5s", "a-startup", // begin; reset all; …
                "5s", "a-startup", // … commit
                "3s", // begin; reset all; set statement_timeout = 3s in the same query
                "5s"); // begin; savepoint; reset; rollback to savepoint; reset again
    }

    /**
     * Found by the differential test (seed 20261206, 20 000 steps): a ROLLBACK in a query string rolls back the implicit
     * transaction of the statements before it, a RESET ALL among them, although PostgreSQL only warns 25P01 "there is
     * no transaction in progress". pgferry took the RESET ALL as done and put the startup values back: the client read
     * those instead of its own SETs, and the backend went back to the pool with state pgferry did not know of.
     */
    @Test
    @Timeout(60)
    void aRollbackLaterInTheQueryStringUndoesTheResetAllBeforeItAsInPostgres() throws Exception {
        try (Connection d = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, DB); Statement s = d.createStatement()) {
            s.execute("create table if not exists rollback_probe (id int)");
            s.execute("grant all on rollback_probe to public");
        }
        List<String> direct = rollbackScript(PostgresFixture.get().port());
        List<String> proxied = rollbackScript(port);
        assertThat(proxied).isEqualTo(direct);
        assertThat(direct).containsExactly("America/New_York", "3s", "America/New_York", "3s", "Asia/Tokyo", "5s");
    }

    private static List<String> rollbackScript(int port) throws Exception {
        List<String> seen = new ArrayList<>();
        try (RawWireClient a = RawWireClient.login("127.0.0.1", port, 10_000, USER, "scram_pw", DB,
                "TimeZone", "Europe/Paris", "options", "-c statement_timeout=5s");
                Connection b = Clients.proxy(port, USER, DB); Statement bs = b.createStatement()) {
            a.send(RawWireClient.query("set timezone = 'America/New_York'; set statement_timeout = '3s'"));
            a.readUntilReady();
            bs.execute("select 1"); // the other client takes its turn on the one backend
            a.send(RawWireClient.query("insert into rollback_probe values (1); reset all; rollback"));
            a.readUntilReady();
            seen.add(shown(a, "timezone"));
            seen.add(shown(a, "statement_timeout"));
            bs.execute("select 1");
            a.send(RawWireClient.query("begin; reset all; set timezone = 'Asia/Tokyo'; rollback"));
            a.readUntilReady();
            seen.add(shown(a, "timezone"));
            seen.add(shown(a, "statement_timeout"));
            a.send(RawWireClient.query("reset all; set timezone = 'Asia/Tokyo'; commit"));
            a.readUntilReady();
            seen.add(shown(a, "timezone"));
            bs.execute("select 1");
            seen.add(shown(a, "statement_timeout"));
        }
        return seen;
    }

    private static String shown(RawWireClient a, String name) throws Exception {
        a.send(RawWireClient.query("show " + name));
        return RawWireClient.firstValue(a.readUntilReady());
    }

    private static List<String> resetScript(int port, boolean withNeighbour) throws SQLException {
        List<String> seen = new ArrayList<>();
        try (Connection a = Clients.proxy(port, USER, DB, "ApplicationName", "a-startup", "assumeMinServerVersion", "10",
                        "options", "-c statement_timeout=5s -c work_mem=256kB");
                Connection b = Clients.proxy(port, USER, DB);
                Statement st = a.createStatement()) {
            st.execute("set work_mem = '1MB'");
            neighbour(b, withNeighbour);
            st.execute("begin");
            st.execute("set statement_timeout = '9s'");
            st.execute("reset statement_timeout");
            seen.add(show(st, "statement_timeout"));
            st.execute("reset all");
            seen.add(show(st, "statement_timeout"));
            seen.add(show(st, "application_name"));
            seen.add(show(st, "work_mem"));
            st.execute("set statement_timeout = '7s'");
            st.execute("commit");
            neighbour(b, withNeighbour);
            seen.add(show(st, "statement_timeout"));
            st.execute("begin");
            st.execute("reset statement_timeout");
            st.execute("rollback");
            neighbour(b, withNeighbour);
            seen.add(show(st, "statement_timeout"));
            st.execute("begin");
            st.execute("set application_name = 'other'");
            st.execute("reset all");
            seen.add(show(st, "statement_timeout"));
            seen.add(show(st, "application_name"));
            st.execute("commit");
            neighbour(b, withNeighbour);
            seen.add(show(st, "statement_timeout"));
            seen.add(show(st, "application_name"));
            st.execute("begin; reset all; set statement_timeout = '3s'");
            seen.add(show(st, "statement_timeout"));
            st.execute("rollback");
            st.execute("begin");
            st.execute("set statement_timeout = '8s'");
            st.execute("savepoint s");
            st.execute("reset statement_timeout");
            st.execute("rollback to savepoint s");
            st.execute("reset statement_timeout");
            seen.add(show(st, "statement_timeout"));
            st.execute("commit");
        }
        return seen;
    }

    /** Another client's transaction on the pool's one backend, between this client's. */
    private static void neighbour(Connection b, boolean on) throws SQLException {
        if (on) {
            Clients.one(b, "select 1");
        }
    }

    private static String show(Statement st, String name) throws SQLException {
        try (ResultSet rs = st.executeQuery("show " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * The unnamed statement outlives its Sync on PostgreSQL: the Vert.x client parses it in one round trip and binds
     * it in the next. A SET of an unreported parameter makes pgferry read its value back (a simple query of its own,
     * which destroys the backend's unnamed statement) before the backend goes back to the pool.
     */
    @Test
    @Timeout(60)
    void theUnnamedStatementSurvivesPgferrysReadBack() throws Exception {
        assertThat(unnamedTwice(port)).isEqualTo(unnamedTwice(PostgresFixture.get().port()))
                .containsExactly("C", "C");
    }

    /** Parses {@code SET work_mem} unnamed, runs it, binds it again: the first message type of each run's answer. */
    private static List<String> unnamedTwice(int port) throws Exception {
        List<String> answers = new ArrayList<>();
        try (RawWireClient c = RawWireClient.login("127.0.0.1", port, 10_000, USER, "scram_pw", DB)) {
            c.send(parse("", "set work_mem = '8MB'"), sync());
            c.readUntilReady();
            for (int run = 0; run < 2; run++) {
                c.send(bind(""), execute(), sync());
                List<RawWireClient.Msg> reply = c.readUntilReady();
                RawWireClient.Msg first = reply.stream().filter(m -> m.type() != '2').findFirst().orElseThrow();
                answers.add(first.type() == 'E' ? "E " + first.field('C') : String.valueOf((char) first.type()));
            }
        }
        return answers;
    }
}
