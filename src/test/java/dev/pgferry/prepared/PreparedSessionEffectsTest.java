package dev.pgferry.prepared;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.firstValue;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.pooling.TinyPoolProfile;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A prepared {@code SET} changes the session at every Bind/Execute of it, not at its Parse: pgferry treats each run of
 * it as it treats the simple Query with that text (tracked, read back, restored), so that clients taking turns on the
 * one backend of a pool (size 1) never see one another's parameters — with psycopg 3 preparing after five runs or at
 * once, pgjdbc preparing from the first, and a raw extended-protocol client running a statement it prepared on an
 * earlier lease.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class PreparedSessionEffectsTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "scram_u";
    static final String PASSWORD = "scram_pw";
    static final String DB = "postgres";

    /**
     * Four autocommit psycopg clients take turns; each reads its six parameters (it must see what it set last), then
     * sets them again, changing its values every third round. Prints {@code reads N leaks M} and the first leaks.
     */
    static final String PSYCOPG_SCRIPT = """
            import sys, psycopg
            host, port, user, password, db, threshold, rounds = sys.argv[1:8]
            kw = {}
            if threshold == "none":
                kw["prepare_threshold"] = None
            elif threshold != "default":
                kw["prepare_threshold"] = int(threshold)
            VALUES = {
                "TimeZone": ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/Sao_Paulo"],
                "DateStyle": ["ISO, MDY", "ISO, DMY", "ISO, YMD", "German, DMY"],
                "application_name": ["c0", "c1", "c2", "c3"],
                "search_path": ["pg_catalog", "public", "pg_catalog, public", '"$user", public'],
                "statement_timeout": ["1234ms", "2s", "45s", "1min"],
                "IntervalStyle": ["postgres", "iso_8601", "sql_standard", "postgres_verbose"],
            }
            conns = [psycopg.connect(host=host, port=port, user=user, password=password, dbname=db,
                                     autocommit=True, **kw) for _ in range(4)]
            def show(c, p):
                return c.execute("SHOW " + p).fetchone()[0]
            expected = [{p: show(c, p) for p in VALUES} for c in conns]
            reads = leaks = 0
            examples = []
            for r in range(int(rounds)):
                for k, c in enumerate(conns):
                    for p in VALUES:
                        got = show(c, p)
                        reads += 1
                        if got != expected[k][p]:
                            leaks += 1
                            if len(examples) < 5:
                                examples.append(f"round {r} client {k} {p}: {got!r}, expected {expected[k][p]!r}")
                    for p, vs in VALUES.items():
                        v = vs[(k + r // 3) % 4]
                        c.execute(("SET search_path = " + v) if p == "search_path" else f"SET {p} = '{v}'")
                        expected[k][p] = v
            print(f"reads {reads} leaks {leaks}")
            for e in examples:
                print(e)
            """;

    static String runPsycopg(int port, String threshold) throws IOException, InterruptedException {
        Path dir = Path.of("target", "psycopg").toAbsolutePath();
        Files.createDirectories(dir);
        Path script = dir.resolve("session_leak.py");
        Files.writeString(script, PSYCOPG_SCRIPT);
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), "127.0.0.1", String.valueOf(port), USER,
                PASSWORD, DB, threshold, "12").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("psycopg script did not finish: " + out);
        }
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    static boolean psycopgInstalled() {
        try {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import psycopg").redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    @Timeout(300)
    void psycopgClientsTakingTurnsNeverSeeAnotherClientsPreparedSet() throws Exception {
        assumeTrue(psycopgInstalled(), "/usr/bin/python3 has no psycopg (Debian package python3-psycopg): skipped");
        int direct = PostgresFixture.get().port();
        for (String threshold : List.of("default", "0")) {
            String viaDirect = runPsycopg(direct, threshold);
            assertThat(viaDirect).as("direct, prepare_threshold=" + threshold).contains("reads 288 leaks 0");
            String viaPgferry = runPsycopg(port, threshold);
            assertThat(viaPgferry).as("pgferry, prepare_threshold=" + threshold).contains("reads 288 leaks 0");
        }
    }

    Connection pgjdbc(String... extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        for (int i = 0; i < extra.length; i += 2) {
            p.setProperty(extra[i], extra[i + 1]);
        }
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/" + DB, p);
    }

    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * pgjdbc with prepareThreshold=1 runs its statements as named server-side statements from the first execution.
     * A alternates two prepared SETs of one parameter; B set the same value as one of them itself, so that a run pgferry
     * missed would leave the backend at a value that B's restore does not correct, and A's next lease would restore
     * the value of the wrong statement.
     */
    @Test
    @Timeout(60)
    void pgjdbcPreparedSetAndSetLocalStayWithTheirClient() throws Exception {
        try (Connection a = pgjdbc("prepareThreshold", "1");
                Connection b = pgjdbc("prepareThreshold", "1");
                PreparedStatement fast = a.prepareStatement("set statement_timeout = '1234ms'");
                PreparedStatement slow = a.prepareStatement("set statement_timeout = '2345ms'");
                PreparedStatement catalog = a.prepareStatement("set search_path = pg_catalog");
                PreparedStatement publicPath = a.prepareStatement("set search_path = public");
                PreparedStatement local = a.prepareStatement("set local statement_timeout = '3456ms'")) {
            try (Statement st = b.createStatement()) {
                st.execute("set statement_timeout = '2345ms'");
                st.execute("set search_path = public");
            }
            for (int i = 0; i < 4; i++) {
                fast.execute();
                assertThat(one(b, "show statement_timeout")).as("B after A's prepared SET, run " + i).isEqualTo("2345ms");
                assertThat(one(a, "show statement_timeout")).as("A, run " + i).isEqualTo("1234ms");
                slow.execute();
                assertThat(one(b, "show statement_timeout")).as("B, run " + i).isEqualTo("2345ms");
                assertThat(one(a, "show statement_timeout")).as("A, run " + i).isEqualTo("2345ms");
            }
            // pgjdbc prepares its statements again after a SET of search_path (QueryExecutorImpl: a SET whose text
            // names search_path bumps its deallocate epoch), so these are Parsed every time
            for (int i = 0; i < 3; i++) {
                catalog.execute();
                assertThat(one(b, "show search_path")).as("B after A's prepared SET, run " + i).isEqualTo("public");
                assertThat(one(a, "show search_path")).as("A, run " + i).isEqualTo("pg_catalog");
                publicPath.execute();
                assertThat(one(a, "show search_path")).as("A, run " + i).isEqualTo("public");
            }
            fast.execute();
            for (int i = 0; i < 3; i++) {
                a.setAutoCommit(false);
                local.execute();
                assertThat(one(a, "show statement_timeout")).as("A inside its transaction").isEqualTo("3456ms");
                a.commit();
                a.setAutoCommit(true);
                assertThat(one(b, "show statement_timeout")).as("B after A's SET LOCAL, run " + i).isEqualTo("2345ms");
                assertThat(one(a, "show statement_timeout")).as("A after its SET LOCAL, run " + i).isEqualTo("1234ms");
            }
        }
    }

    /**
     * A statement parsed on one lease and run on a later one, after another client's traffic: its SET counts when it
     * runs, for a named and for the unnamed statement (which the other client's query destroyed on the server, so
     * pgferry parses it again first).
     */
    @Test
    @Timeout(60)
    void rawSetParsedOnOneLeaseAndRunOnAnotherIsTracked() throws Exception {
        try (RawWireClient a = RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB);
                RawWireClient b = RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB)) {
            String bPath = firstValue(b.exchange(1, query("show search_path")));
            assertThat(a.exchange(1, parse("s1", "SET statement_timeout = '4321ms'"), sync()))
                    .extracting(RawWireClient.Msg::type).containsExactly((int) '1', (int) 'Z');
            for (int i = 0; i < 3; i++) {
                assertThat(a.exchange(1, parse("", "SET search_path = pg_catalog"), sync()))
                        .extracting(RawWireClient.Msg::type).containsExactly((int) '1', (int) 'Z');
                assertThat(firstValue(b.exchange(1, query("show statement_timeout")))).isEqualTo("0");
                assertThat(a.exchange(1, bind("s1"), execute(), bind(""), execute(), sync()))
                        .extracting(RawWireClient.Msg::type)
                        .containsExactly((int) '2', (int) 'C', (int) '2', (int) 'C', (int) 'Z');
                assertThat(firstValue(b.exchange(1, query("show statement_timeout")))).as("B, run " + i).isEqualTo("0");
                assertThat(firstValue(b.exchange(1, query("show search_path")))).as("B, run " + i).isEqualTo(bPath);
                assertThat(firstValue(a.exchange(1, query("show statement_timeout")))).as("A, run " + i)
                        .isEqualTo("4321ms");
                assertThat(firstValue(a.exchange(1, query("show search_path")))).as("A, run " + i)
                        .isEqualTo("pg_catalog");
            }
        }
    }
}
