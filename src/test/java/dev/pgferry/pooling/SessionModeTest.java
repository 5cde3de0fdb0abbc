package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

/**
 * {@code pgferry.pool.mode=session}: a client keeps one backend from its first query to its disconnect, and the next
 * client of that backend finds none of its session state, which pgferry's {@code DISCARD ALL} (PgBouncer's
 * {@code server_reset_query}) removed. Database {@code bench} is overridden to transaction mode. Pools of one backend.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(SessionModeTest.SessionMode.class)
class SessionModeTest {
    static final int QUERY_WAIT_TIMEOUT_SECONDS = 2;

    public static class SessionMode implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.pool.mode", "session",
                    "pgferry.databases.bench.pool-mode", "transaction",
                    "pgferry.pool.size", "1",
                    "pgferry.pool.query-wait-timeout", QUERY_WAIT_TIMEOUT_SECONDS + "s",
                    "pgferry.auth.type", "md5"); // as TinyPoolProfile
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String DB = "postgres";

    @BeforeAll
    static void schema() throws SQLException {
        Clients.directExec(DB, "create schema if not exists pooling_s", "grant all on schema pooling_s to public");
    }

    @Test
    @Timeout(60)
    void aClientKeepsItsBackendAndItsSessionAcrossTransactions() throws Exception {
        try (Connection a = Clients.proxy(port, "scram_u", DB)) {
            String pid = one(a, "select pg_backend_pid()");
            try (Statement st = a.createStatement()) {
                st.execute("set search_path = pooling_s, public");
                st.execute("set statement_timeout = '7s'");
                st.execute("create temp table session_kept (n int)");
                st.execute("insert into session_kept values (1)");
                st.execute("prepare session_kept_q as select n + 1 from session_kept");
            }
            a.setAutoCommit(false);
            assertThat(one(a, "select pg_backend_pid()")).as("inside an explicit transaction").isEqualTo(pid);
            try (Statement st = a.createStatement()) {
                st.execute("insert into session_kept values (2)");
            }
            a.commit();
            a.setAutoCommit(true);
            for (int i = 0; i < 5; i++) {
                assertThat(one(a, "select pg_backend_pid()")).as("transaction %d", i).isEqualTo(pid);
            }
            assertThat(one(a, "show search_path")).isEqualTo("pooling_s, public");
            assertThat(one(a, "show statement_timeout")).isEqualTo("7s");
            assertThat(one(a, "select string_agg(n::text, ',' order by n) from session_kept")).isEqualTo("1,2");
            assertThat(one(a, "execute session_kept_q")).isEqualTo("2");
        }
    }

    /**
     * A client may send a COPY, its data and CopyDone in one write, before the server's CopyInResponse: the COPY is
     * over at its CommandComplete all the same. The client is then at rest (a drain closes it at once) and its
     * backend, returned when it leaves, serves the next client (it was discarded as if still in COPY).
     */
    @Test
    @Timeout(60)
    void aCopySentInOneWriteWithItsDataEndsAndLeavesTheBackendReusable() throws Exception {
        Clients.directExec(DB, "drop table if exists session_copy", "create table session_copy (n int)",
                "grant all on session_copy to public");
        String pid;
        try (RawWireClient a = RawWireClient.login(Clients.HOST, port, 5000, "postgres",
                Clients.PASSWORDS.get("postgres"), DB)) {
            pid = rawOne(a, "select pg_backend_pid()");
            a.send(RawWireClient.query("copy session_copy from stdin"),
                    RawWireClient.message('d', "1\n2\n".getBytes(StandardCharsets.US_ASCII)),
                    RawWireClient.message('c', new byte[0]));
            List<RawWireClient.Msg> reply = a.readUntilReady();
            assertThat(reply).extracting(m -> (char) m.type()).containsExactly('G', 'C', 'Z');
            assertThat(new String(reply.get(1).body(), StandardCharsets.US_ASCII)).isEqualTo("COPY 2\0");
            assertThat(rawOne(a, "select count(*) from session_copy")).isEqualTo("2");
        }
        try (Connection b = Clients.proxy(port, "postgres", DB)) {
            assertThat(one(b, "select pg_backend_pid()")).as("the same server process, returned clean").isEqualTo(pid);
        }
    }

    /** The single value of a one-row query on a logged-in raw connection. */
    private static String rawOne(RawWireClient c, String sql) throws java.io.IOException {
        RawWireClient.Msg row = c.exchange(1, RawWireClient.query(sql)).stream().filter(m -> m.type() == 'D')
                .findFirst().orElseThrow();
        byte[] b = row.body(); // int16 column count, int32 length, the value
        int len = ((b[2] & 0xff) << 24) | ((b[3] & 0xff) << 16) | ((b[4] & 0xff) << 8) | (b[5] & 0xff);
        return new String(b, 6, len, StandardCharsets.UTF_8);
    }

    /**
     * The one backend is the first client's from its login until it disconnects: the second login waits for it (the
     * pool's query-wait-timeout) and then gets an error, as PgBouncer ends a login waiting past query_wait_timeout.
     * Once A left, a login is served.
     */
    @Test
    @Timeout(60)
    void aSecondLoginWaitsForTheBackendTheFirstClientHoldsAndFailsWhenNoneComes() throws Exception {
        try (Connection a = Clients.proxy(port, "md5_u", DB)) {
            one(a, "select 1"); // autocommit: no transaction is open, yet A keeps the backend
            long start = System.nanoTime();
            assertThatThrownBy(() -> Clients.proxy(port, "md5_u", DB).close()).isInstanceOf(PSQLException.class)
                    .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("53300"))
                    .hasMessageContaining("query_wait_timeout");
            assertThat(System.nanoTime() - start).as("waited the query-wait-timeout")
                    .isGreaterThanOrEqualTo(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
                            QUERY_WAIT_TIMEOUT_SECONDS * 1000L - 100));
        }
        try (Connection b = Clients.proxy(port, "md5_u", DB)) {
            assertThat(one(b, "select 3")).as("served once A left").isEqualTo("3");
        }
    }

    /**
     * Everything DISCARD ALL resets, set by one client, is gone for the next client on the same server process:
     * parameters the server does not report (pgferry cannot restore what it does not know), SQL prepared statements,
     * WITH HOLD cursors, LISTEN and session advisory locks. (A temp table leaves the backend's temporary namespace,
     * which DISCARD ALL keeps: that backend is replaced, see SessionModeFreshSessionTest.)
     */
    @Test
    @Timeout(60)
    void theNextClientOnTheBackendFindsNoneOfThePreviousClientsSessionState() throws Exception {
        String user = "plain_u";
        Map<String, String> fresh;
        try (Connection d = Clients.direct(DB)) {
            fresh = Map.of("search_path", one(d, "show search_path"), "statement_timeout",
                    one(d, "show statement_timeout"), "work_mem", one(d, "show work_mem"));
        }
        String pid;
        try (Connection a = Clients.proxy(port, user, DB)) {
            pid = one(a, "select pg_backend_pid()");
            try (Statement st = a.createStatement()) {
                st.execute("set search_path = pooling_s, public");
                st.execute("set statement_timeout = '7s'");
                st.execute("set work_mem = '3MB'");
                st.execute("prepare session_left_q as select 1");
                st.execute("begin");
                st.execute("declare session_left_c cursor with hold for select 1");
                st.execute("commit");
                st.execute("listen session_left_channel");
                st.execute("select pg_advisory_lock(4711)");
            }
            assertThat(one(a, "select count(*) from pg_prepared_statements where name = 'session_left_q'"))
                    .isEqualTo("1");
            assertThat(one(a, "select count(*) from pg_cursors where name = 'session_left_c'")).isEqualTo("1");
        }
        try (Connection b = Clients.proxy(port, user, DB)) {
            assertThat(one(b, "select pg_backend_pid()")).as("the same server process").isEqualTo(pid);
            assertThat(one(b, "show search_path")).isEqualTo(fresh.get("search_path"));
            assertThat(one(b, "show statement_timeout")).isEqualTo(fresh.get("statement_timeout"));
            assertThat(one(b, "show work_mem")).isEqualTo(fresh.get("work_mem"));
            assertThat(one(b, "select count(*) from pg_prepared_statements where name = 'session_left_q'"))
                    .isEqualTo("0");
            assertThat(one(b, "select count(*) from pg_cursors where name = 'session_left_c'")).isEqualTo("0");
            assertThat(one(b, "select count(*) from pg_listening_channels()")).isEqualTo("0");
            assertThat(one(b, "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()")).isEqualTo("0");
            try (Statement st = b.createStatement()) {
                assertThatThrownBy(() -> st.execute("execute session_left_q"))
                        .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("26000"));
            }
        }
    }

    /** Startup parameters are the session's defaults in session mode too: RESET returns to them. */
    @Test
    @Timeout(60)
    void resetReturnsToTheStartupValue() throws Exception {
        try (Connection a = Clients.proxy(port, "scram_u", DB, "options", "-c statement_timeout=5s")) {
            assertThat(one(a, "show statement_timeout")).isEqualTo("5s");
            try (Statement st = a.createStatement()) {
                st.execute("set statement_timeout = '7s'");
                assertThat(one(a, "show statement_timeout")).isEqualTo("7s");
                st.execute("reset statement_timeout");
            }
            assertThat(one(a, "show statement_timeout")).isEqualTo("5s");
            try (Statement st = a.createStatement()) {
                st.execute("reset all");
            }
            assertThat(one(a, "show statement_timeout")).isEqualTo("5s");
        }
    }

    /**
     * {@code pgferry.databases.bench.pool-mode=transaction} overrides the session default: two clients connected at
     * once take turns on bench's one backend, where in session mode the second would wait for the first to leave.
     */
    @Test
    @Timeout(60)
    void aDatabaseWithPoolModeTransactionSharesItsBackendBetweenConnectedClients() throws Exception {
        String bench = "bench";
        try (Connection a = Clients.proxy(port, "md5_u", bench); Connection b = Clients.proxy(port, "md5_u", bench)) {
            String pid = one(a, "select pg_backend_pid()");
            assertThat(one(b, "select pg_backend_pid()")).isEqualTo(pid);
            assertThat(one(a, "select pg_backend_pid()")).isEqualTo(pid);
            try (Connection sessionPool = Clients.proxy(port, "md5_u", DB);
                    Connection admin = Clients.proxy(port, "postgres", "pgferry", "preferQueryMode", "simple")) {
                assertThat(AdminConsoleRows.pool(admin, bench, "md5_u")).containsEntry("pool_mode", "transaction");
                assertThat(AdminConsoleRows.pool(admin, DB, "md5_u")).containsEntry("pool_mode", "session");
            }
        }
    }
}
