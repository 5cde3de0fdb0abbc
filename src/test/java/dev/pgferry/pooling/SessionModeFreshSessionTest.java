package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;

/**
 * Session mode: a client that connects gets a backend that behaves as a fresh server session, which a direct
 * connection to the same server (the oracle) shows: no temporary namespace and no library an earlier client of the
 * backend left, its statements under its own names, and the real pid of its backend in BackendKeyData. Same profile as
 * {@link SessionModeTest} (pools of one backend, so that the next client gets the backend the last one left, if any).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(SessionModeTest.SessionMode.class)
class SessionModeFreshSessionTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String DB = "postgres";
    static final String USER = "md5_u";

    private static Connection direct(String user) throws SQLException {
        return PostgresFixture.get().connect(user, Clients.PASSWORDS.get(user), DB);
    }

    /**
     * The probe of the temporary namespace: with {@code search_path = pg_temp}, {@code current_schema()} in a
     * fresh session creates the namespace, so the transaction has operated on temporary objects and PREPARE
     * TRANSACTION says so; where the namespace exists already it does not, and the server says that prepared
     * transactions are disabled (max_prepared_transactions is 0 on the fixture). The answer is returned.
     */
    private static String prepareAfterCurrentSchema(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("set search_path to pg_temp");
            st.execute("begin");
            st.execute("select current_schema()");
            try {
                st.execute("prepare transaction 'fresh_session_x'");
                return "prepared";
            } catch (PSQLException e) {
                return e.getServerErrorMessage().getMessage();
            } finally {
                st.execute("rollback");
                st.execute("reset search_path");
            }
        }
    }

    /** Runs {@code sql}: "ok", or the server's error message. */
    private static String outcome(Connection c, String sql) {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
            return "ok";
        } catch (SQLException e) {
            return e instanceof PSQLException p && p.getServerErrorMessage() != null
                    ? p.getServerErrorMessage().getMessage() : e.getMessage();
        }
    }

    @Test
    @Timeout(60)
    void aTemporaryNamespaceAnEarlierClientCreatedIsNotInherited() throws Exception {
        String fresh;
        try (Connection d = direct(USER)) {
            fresh = prepareAfterCurrentSchema(d);
        }
        assertThat(fresh).contains("temporary objects");
        String pid;
        try (Connection a = Clients.proxy(port, USER, DB)) {
            pid = one(a, "select pg_backend_pid()");
            assertThat(prepareAfterCurrentSchema(a)).as("A's own fresh session").isEqualTo(fresh);
            try (Statement st = a.createStatement()) {
                st.execute("create temp table fresh_session_t (n int)");
            }
        }
        try (Connection b = Clients.proxy(port, USER, DB)) {
            assertThat(one(b, "select pg_backend_pid()")).as("A's backend kept its temp namespace: replaced")
                    .isNotEqualTo(pid);
            assertThat(one(b, "select to_regclass('pg_temp.fresh_session_t') is null")).isEqualTo("t");
            assertThat(prepareAfterCurrentSchema(b)).isEqualTo(fresh);
        }
    }

    @Test
    @Timeout(60)
    void aBackendThatLeftNothingBehindServesTheNextClient() throws Exception {
        String pid;
        try (Connection a = Clients.proxy(port, USER, DB)) {
            pid = one(a, "select pg_backend_pid()");
            try (Statement st = a.createStatement()) {
                st.execute("set work_mem = '3MB'");
                st.execute("create table if not exists fresh_session_plain (n int)");
                st.execute("drop table fresh_session_plain");
            }
        }
        try (Connection b = Clients.proxy(port, USER, DB)) {
            assertThat(one(b, "select pg_backend_pid()")).as("reused").isEqualTo(pid);
        }
    }

    /**
     * Once PL/pgSQL is loaded its prefix is reserved: {@code SET plpgsql.<unknown>} is an error, where a fresh session
     * creates a placeholder. LOAD needs a superuser for a library outside $libdir/plugins; a DO block loads the
     * language handler for anyone.
     */
    @Test
    @Timeout(60)
    void aLibraryAnEarlierClientLoadedIsNotInherited() throws Exception {
        String set = "set plpgsql.extra_foo_warnings = true";
        for (String[] c : List.of(new String[] {"postgres", "load 'plpgsql'"},
                new String[] {USER, "do $$ begin null; end $$"})) {
            String user = c[0];
            String fresh;
            try (Connection d = direct(user)) {
                fresh = outcome(d, set);
                try (Statement st = d.createStatement()) {
                    st.execute(c[1]);
                }
                assertThat(outcome(d, "set plpgsql.extra_bar_warnings = true")).as("the oracle: loaded, reserved")
                        .isNotEqualTo(fresh);
            }
            String pid;
            try (Connection a = Clients.proxy(port, user, DB)) {
                pid = one(a, "select pg_backend_pid()");
                try (Statement st = a.createStatement()) {
                    st.execute(c[1]);
                }
            }
            try (Connection b = Clients.proxy(port, user, DB)) {
                assertThat(one(b, "select pg_backend_pid()")).as("after %s: replaced", c[1]).isNotEqualTo(pid);
                assertThat(outcome(b, set)).as("after %s", c[1]).isEqualTo(fresh);
            }
        }
    }

    /**
     * BackendKeyData carries the backend's real pid: {@code pg_backend_pid()} is that number, and terminating it
     * from another session ends the client's session, as on a direct connection.
     */
    @Test
    @Timeout(60)
    void theBackendKeyDataPidIsTheBackendsAndTerminatingItEndsTheSession() throws Exception {
        try (Connection d = direct(USER)) {
            assertThat(terminatedByPid(d)).as("direct").containsExactly("pid matches", "terminated", "57P01");
        }
        try (Connection a = Clients.proxy(port, USER, DB)) {
            assertThat(terminatedByPid(a)).as("through pgferry").containsExactly("pid matches", "terminated", "57P01");
        }
        try (Connection b = Clients.proxy(port, USER, DB)) {
            assertThat(one(b, "select 1")).as("the pool opened another backend").isEqualTo("1");
        }
    }

    private static List<String> terminatedByPid(Connection c) throws SQLException {
        int pid = c.unwrap(PGConnection.class).getBackendPID();
        String matches = one(c, "select pg_backend_pid()").equals(Integer.toString(pid)) ? "pid matches" : "pid differs";
        String terminated;
        try (Connection killer = direct("postgres")) {
            terminated = "t".equals(one(killer, "select pg_terminate_backend(" + pid + ")")) ? "terminated" : "not";
        }
        String next;
        try {
            one(c, "select 1");
            next = "still alive";
        } catch (SQLException e) {
            next = Clients.sqlState(e);
        }
        return List.of(matches, terminated, next);
    }

    /** A cancel, sent to pgferry with the real pid and pgferry's secret, still stops the client's query. */
    @Test
    @Timeout(60)
    void aCancelStillStopsTheQuery() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB); Statement st = a.createStatement()) {
            String pid = one(a, "select pg_backend_pid()");
            CompletableFuture<Throwable> sleep = CompletableFuture.supplyAsync(() -> {
                try {
                    st.execute("select pg_sleep(30)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            try (Connection d = direct("postgres")) {
                Clients.awaitActive(d, USER, "select pg_sleep");
            }
            st.cancel();
            Throwable e = sleep.get(20, TimeUnit.SECONDS);
            assertThat(Clients.sqlState(e)).isEqualTo("57014");
            assertThat(one(a, "select pg_backend_pid()")).as("the same backend, still the client's").isEqualTo(pid);
        }
    }

    /**
     * psycopg 3 with {@code prepare_threshold=0} prepares every query under its own names ({@code _pg3_0} …) and, past
     * {@code prepared_max}, drops the oldest with a plain-SQL {@code DEALLOCATE}; a notification carries the pid of the
     * notifying backend, which is the connection's own here. Run directly and through pgferry: the same output.
     */
    static final String PSYCOPG_SCRIPT = """
            import sys, psycopg
            host, port, user, password, db = sys.argv[1:6]
            out = []
            with psycopg.connect(host=host, port=port, user=user, password=password, dbname=db, autocommit=True,
                                 prepare_threshold=0) as c:
                c.prepared_max = 3
                names = lambda: ",".join(r[0] for r in c.execute(
                    "select name from pg_prepared_statements order by name").fetchall())
                c.execute("select 1").fetchone()
                out.append("names " + names())
                for i in range(2, 6):
                    c.execute("select %s::int + " + str(i), (i,)).fetchone()
                out.append("after eviction " + names())
                got = []
                c.add_notify_handler(got.append)
                c.execute("listen fresh_session_ch")
                c.execute("notify fresh_session_ch, 'x'")
                pid = c.info.backend_pid
                out.append("backend pid " + str(c.execute("select pg_backend_pid()").fetchone()[0] == pid))
                out.append("notification pid " + str([n.pid == pid for n in got]))
            print("\\n".join(out))
            """;

    @Test
    @Timeout(120)
    void psycopgSeesItsOwnStatementNamesAndItsBackendsPid() throws Exception {
        String direct = psycopg(PostgresFixture.get().host(), PostgresFixture.get().port());
        assertThat(direct).contains("names _pg3_", "after eviction _pg3_", "backend pid True",
                "notification pid [True]");
        assertThat(psycopg(Clients.HOST, port)).isEqualTo(direct);
    }

    private static String psycopg(String host, int port) throws IOException, InterruptedException {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "no /usr/bin/python3: psycopg test skipped");
        Process check = new ProcessBuilder(python.toString(), "-c", "import psycopg").redirectErrorStream(true).start();
        assumeTrue(check.waitFor(30, TimeUnit.SECONDS) && check.exitValue() == 0,
                "psycopg 3 is not installed (Debian: apt-get install python3-psycopg): psycopg test skipped");
        Process p = new ProcessBuilder(python.toString(), "-c", PSYCOPG_SCRIPT, host, Integer.toString(port), USER,
                Clients.PASSWORDS.get(USER), DB).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
