package dev.pgferry.prepared;

import static dev.pgferry.prepared.DuplicateParseTest.errors;
import static dev.pgferry.prepared.DuplicateParseTest.readies;
import static dev.pgferry.prepared.DuplicateParseTest.types;
import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A simple Query {@code DEALLOCATE name} of a statement the client prepared at protocol level drops the client's
 * statement, as on PostgreSQL, although pgferry prepares it under a shared name on the server (issue 16); so does the
 * same text sent as an unnamed Parse/Bind/Execute, as libpq's PQsendQueryParams sends it (psycopg 3.1). Each
 * scenario sends the same bytes to PostgreSQL itself and through pgferry (one backend, so every client shares it);
 * the transcripts must be equal byte for byte, or, where pgferry itself gives an error PostgreSQL's source file and
 * line are not part of, field for field.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(DuplicateParseTest.OneBackend.class)
class SqlDeallocateTest {
    static final String DB = DuplicateParseTest.DB;

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    RawWireClient proxy() throws IOException {
        return RawWireClient.login("127.0.0.1", port, 20_000, "postgres", "secret", DB);
    }

    List<Msg> sameAsPostgres(DuplicateParseTest.Scenario scenario) throws IOException {
        List<Msg> expected;
        try (RawWireClient s = DuplicateParseTest.direct()) {
            expected = scenario.run(s);
        }
        List<Msg> actual;
        try (RawWireClient s = proxy()) {
            actual = scenario.run(s);
        }
        assertThat(actual).as("through pgferry vs PostgreSQL").containsExactlyElementsOf(expected);
        return actual;
    }

    /** As {@link #sameAsPostgres}, errors compared by severity, SQLSTATE and message only. */
    List<String> alikeToPostgres(DuplicateParseTest.Scenario scenario) throws IOException {
        List<String> expected;
        try (RawWireClient s = DuplicateParseTest.direct()) {
            expected = fields(scenario.run(s));
        }
        List<String> actual;
        try (RawWireClient s = proxy()) {
            actual = fields(scenario.run(s));
        }
        assertThat(actual).as("through pgferry vs PostgreSQL").containsExactlyElementsOf(expected);
        return actual;
    }

    private static List<String> fields(List<Msg> transcript) {
        List<String> out = new ArrayList<>();
        for (Msg m : transcript) {
            out.add(m.type() == 'E' ? "E " + m.field('S') + " " + m.field('V') + " " + m.field('C') + " " + m.field('M')
                    : m.toString());
        }
        return out;
    }

    private static String dataRow(String value) {
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        return new Msg('D', RawWireClient.concat(new byte[] {0, 1, 0, 0, 0, (byte) v.length}, v)).toString();
    }

    static final String GONE_S1 = "26000 prepared statement \"s1\" does not exist\n";

    @Test
    @Timeout(60)
    void deallocateDropsTheStatementAndTheNameCanBePreparedAgainWithAnotherText() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("s1", "select 1"), bind("s1"), execute(), sync());
            all.addAll(s.exchange(1, query("DEALLOCATE S1"))); // folded to s1
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            all.addAll(s.exchange(1, RawWireClient.describeStatement("s1"), sync()));
            all.addAll(s.exchange(1, parse("s1", "select 2"), bind("s1"), execute(), sync()));
            all.addAll(s.exchange(1, query("deallocate prepare s1;")));
            all.addAll(s.exchange(1, parse("s1", "select 1"), bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("12DCZ" + "CZ" + "EZ" + "EZ" + "12DCZ" + "CZ" + "12DCZ");
        assertThat(t.get(5).toString()).isEqualTo("Complete(DEALLOCATE)");
        assertThat(errors(t)).isEqualTo(GONE_S1 + GONE_S1);
        assertThat(t.get(13).toString()).isEqualTo(dataRow("2"));
        assertThat(readies(t)).isEqualTo("IIIIIII");
    }

    @Test
    @Timeout(60)
    void quotedNamesKeepTheirCaseAndUnknownNamesAre26000() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("Foo", "select 1"), sync());
            all.addAll(s.exchange(1, query("DEALLOCATE Foo"))); // folded: foo, which it has not
            all.addAll(s.exchange(1, query("/* psycopg */ DEALLOCATE PREPARE \"Foo\" -- evicted")));
            all.addAll(s.exchange(1, query("DEALLOCATE \"Foo\"")));
            all.addAll(s.exchange(1, query("DEALLOCATE nope")));
            all.addAll(s.exchange(1, query("DEALLOCATE select")));
            return all;
        });
        assertThat(types(t)).isEqualTo("1Z" + "EZ" + "CZ" + "EZ" + "EZ" + "EZ");
        assertThat(errors(t)).startsWith("26000 prepared statement \"foo\" does not exist\n"
                + "26000 prepared statement \"Foo\" does not exist\n"
                + "26000 prepared statement \"nope\" does not exist\n"
                + "42601 syntax error at or near \"select\"");
    }

    @Test
    @Timeout(60)
    void insideATransactionItIsNotUndoneByRollback() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, query("begin"));
            all.addAll(s.exchange(1, parse("s1", "select 1"), sync()));
            all.addAll(s.exchange(1, query("DEALLOCATE s1")));
            all.addAll(s.exchange(1, query("rollback")));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("CZ" + "1Z" + "CZ" + "CZ" + "EZ");
        assertThat(readies(t)).isEqualTo("TTTII");
        assertThat(errors(t)).isEqualTo(GONE_S1);
    }

    @Test
    @Timeout(60)
    void insideAFailedTransactionItIs25P02AndTheStatementStays() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, query("begin"));
            all.addAll(s.exchange(1, parse("s1", "select 1"), sync()));
            all.addAll(s.exchange(1, query("select 1/0")));
            all.addAll(s.exchange(1, query("DEALLOCATE s1")));
            all.addAll(s.exchange(1, query("rollback")));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(readies(t)).isEqualTo("TTEEII");
        assertThat(errors(t)).contains("25P02 current transaction is aborted");
        assertThat(types(t)).endsWith("CZ" + "2DCZ");
    }

    @Test
    @Timeout(60)
    void pipelinedBehindOtherRequestsItIsAnsweredInOrder() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("s1", "select 1"), sync());
            all.addAll(s.exchange(4, query("select 10"), query("DEALLOCATE s1"), parse("s1", "select 2"), bind("s1"),
                    execute(), sync(), query("begin; select 11")));
            all.addAll(s.exchange(3, query("DEALLOCATE s1"), query("commit"), bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("1Z" + "TDCZ" + "CZ" + "12DCZ" + "CTDCZ" + "CZ" + "CZ" + "EZ");
        assertThat(readies(t)).isEqualTo("I" + "IIIT" + "TII");
        assertThat(errors(t)).isEqualTo(GONE_S1);
    }

    @Test
    @Timeout(60)
    void pipelinedIntoAFailedTransactionItIs25P02AndTheStatementStays() throws Exception {
        // pgferry answers the DEALLOCATE itself here, once the server reported the failed transaction
        List<String> t = alikeToPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("s1", "select 1"), sync());
            all.addAll(s.exchange(4, query("begin"), query("select 1/0"), query("DEALLOCATE s1"), query("rollback")));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(t).contains("E ERROR ERROR 25P02 current transaction is aborted, commands ignored until end of"
                + " transaction block");
        assertThat(t.subList(t.size() - 4, t.size()).toString()).contains("Complete(SELECT 1)");
    }

    @Test
    @Timeout(60)
    void afterATransactionThatResetAParameterItIsAnsweredAfterItsEnd() throws Exception {
        // RESET ALL makes pgferry put the client's startup values back once the transaction is over (FIXUP)
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("s1", "select 1"), sync());
            all.addAll(s.exchange(2, query("reset all"), query("DEALLOCATE s1")));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("1Z" + "CZ" + "CZ" + "EZ");
    }

    @Test
    @Timeout(60)
    void answeredWithoutABackendAndOtherClientsKeepTheSharedStatement() throws Exception {
        try (RawWireClient holder = proxy(); RawWireClient a = proxy(); RawWireClient b = proxy()) {
            assertThat(types(a.exchange(1, parse("a1", "select 42"), sync()))).isEqualTo("1Z");
            assertThat(types(b.exchange(1, parse("b1", "select 42"), sync()))).isEqualTo("1Z");
            // the pool's one backend is held in a transaction: a lease would wait, then fail after 2 s
            assertThat(readies(holder.exchange(1, query("begin")))).isEqualTo("T");
            long t0 = System.nanoTime();
            List<Msg> answer = a.exchange(1, query("DEALLOCATE a1"));
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds").isLessThan(1.0);
            assertThat(answer.toString()).isEqualTo("[Complete(DEALLOCATE), Ready(I)]");
            assertThat(readies(holder.exchange(1, query("commit")))).isEqualTo("I");
            // b's statement is the same text under the same server name, and still there
            List<Msg> rows = b.exchange(1, bind("b1"), execute(), sync());
            assertThat(types(rows)).isEqualTo("2DCZ");
            assertThat(rows.get(1).toString()).isEqualTo(dataRow("42"));
            assertThat(errors(a.exchange(1, bind("a1"), execute(), sync())))
                    .isEqualTo("26000 prepared statement \"a1\" does not exist\n");
        }
    }

    @Test
    @Timeout(60)
    void inASessionPinnedBySqlPrepareItsOwnStatementsGoToTheServer() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, query("PREPARE q AS select 3")); // pins the session to its backend
            all.addAll(s.exchange(1, parse("s1", "select 1"), sync()));
            all.addAll(s.exchange(1, query("DEALLOCATE s1")));
            all.addAll(s.exchange(1, query("DEALLOCATE q")));
            all.addAll(s.exchange(1, query("EXECUTE q")));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("CZ" + "1Z" + "CZ" + "CZ" + "EZ" + "EZ");
        assertThat(errors(t)).isEqualTo("26000 prepared statement \"q\" does not exist\n" + GONE_S1);
    }

    /** What libpq's PQsendQueryParams sends for {@code sql} without parameters (psycopg 3.1 evicts statements so). */
    static byte[] extended(String sql) {
        return RawWireClient.concat(unsynced(sql), sync());
    }

    /** {@link #extended} without its Sync. */
    static byte[] unsynced(String sql) {
        byte[] describePortal = RawWireClient.message('D', RawWireClient.concat(new byte[] {'P'}, new byte[] {0}));
        return RawWireClient.concat(parse("", sql), bind(""), describePortal, execute());
    }

    @Test
    @Timeout(60)
    void extendedDeallocateDropsTheStatementAsOnPostgres() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("s1", "select 1"), bind("s1"), execute(), sync());
            all.addAll(s.exchange(1, extended("DEALLOCATE s1")));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            all.addAll(s.exchange(1, extended("DEALLOCATE s1"))); // a name it has not: 26000 from the server
            all.addAll(s.exchange(1, parse("s1", "select 2"), bind("s1"), execute(), sync()));
            all.addAll(s.exchange(1, extended("/* evict */ deallocate prepare S1;")));
            // the unnamed statement is still the client's text: described, then bound again, now without s1
            all.addAll(s.exchange(1, RawWireClient.describeStatement(""), sync()));
            all.addAll(s.exchange(1, bind(""), execute(), sync()));
            all.addAll(s.exchange(1, query("begin")));
            all.addAll(s.exchange(2, parse("s1", "select 3"), sync(), extended("DEALLOCATE s1")));
            all.addAll(s.exchange(1, query("rollback"))); // DEALLOCATE is not undone
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("12DCZ" + "12nCZ" + "EZ" + "12nEZ" + "12DCZ" + "12nCZ" + "tnZ" + "2EZ"
                + "CZ" + "1Z12nCZ" + "CZ" + "EZ");
        assertThat(t.get(8).toString()).isEqualTo("Complete(DEALLOCATE)");
        assertThat(errors(t)).isEqualTo(GONE_S1 + GONE_S1 + GONE_S1 + GONE_S1);
        assertThat(readies(t)).isEqualTo("IIIIIIII" + "TTTI" + "I");
    }

    @Test
    @Timeout(60)
    void extendedDeallocatePipelinedWithAParseOfTheNameOrSkippedAfterAnError() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("s1", "select 1"), sync());
            // gone at once: the name is free for the Parse behind it
            all.addAll(s.exchange(1, unsynced("DEALLOCATE s1"), parse("s1", "select 2"), bind("s1"), execute(),
                    sync()));
            // skipped after the error before it: s1 stays
            all.addAll(s.exchange(1, parse("", "DEALLOCATE s1"), parse("bad", "selec 1"), bind(""), execute(),
                    sync()));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            // in a failed transaction the server refuses its Parse: s1 stays
            all.addAll(s.exchange(1, query("begin")));
            all.addAll(s.exchange(1, query("select 1/0")));
            all.addAll(s.exchange(1, extended("DEALLOCATE s1")));
            all.addAll(s.exchange(1, query("rollback")));
            all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("1Z" + "12nC12DCZ" + "1EZ" + "2DCZ" + "CZ" + "EZ" + "EZ" + "CZ" + "2DCZ");
        assertThat(t.get(8).toString()).isEqualTo(dataRow("2"));
        assertThat(errors(t)).startsWith("42601 syntax error at or near \"selec\"\n")
                .contains("22012 division by zero\n25P02 current transaction is aborted");
    }

    @Test
    @Timeout(60)
    void extendedDeallocateBoundAfterAnotherClientsUnnamedStatement() throws Exception {
        // with one backend, the other client's Parse replaces the server's unnamed statement in between
        DuplicateParseTest.Scenario other = o -> o.exchange(1, parse("", "select 9"), bind(""), execute(), sync());
        List<List<Msg>> runs = new ArrayList<>();
        for (boolean direct : new boolean[] {true, false}) {
            try (RawWireClient s = direct ? DuplicateParseTest.direct() : proxy();
                    RawWireClient o = direct ? DuplicateParseTest.direct() : proxy()) {
                List<Msg> all = s.exchange(1, parse("s1", "select 1"), parse("", "DEALLOCATE s1"), sync());
                other.run(o);
                all.addAll(s.exchange(1, bind(""), execute(), sync()));
                all.addAll(s.exchange(1, bind("s1"), execute(), sync()));
                other.run(o);
                all.addAll(s.exchange(1, bind(""), execute(), sync()));
                runs.add(all);
            }
        }
        assertThat(runs.get(1)).as("through pgferry vs PostgreSQL").containsExactlyElementsOf(runs.get(0));
        assertThat(types(runs.get(1))).isEqualTo("11Z" + "2CZ" + "EZ" + "2EZ");
        assertThat(errors(runs.get(1))).isEqualTo(GONE_S1 + GONE_S1);
    }

    /** pgjdbc preparing at protocol level and sending plain SQL as simple Queries (extendedForPrepared). */
    private static String pgjdbcRun(String url) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", "secret");
        p.setProperty("prepareThreshold", "1");
        p.setProperty("preferQueryMode", "extendedForPrepared");
        StringBuilder out = new StringBuilder();
        try (Connection c = new org.postgresql.Driver().connect(url, p);
                PreparedStatement ps = c.prepareStatement("select 5");
                Statement st = c.createStatement()) {
            for (int i = 0; i < 2; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    out.append(rs.getInt(1)).append(' ');
                }
            }
            st.execute("DEALLOCATE \"S_1\"");
            out.append(st.getUpdateCount()).append(' ');
            try {
                st.execute("DEALLOCATE \"S_1\"");
            } catch (SQLException e) {
                out.append(e.getSQLState()).append(' ');
            }
            c.setAutoCommit(false);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                out.append(rs.getInt(1));
            } catch (SQLException e) {
                out.append(e.getSQLState());
            }
        }
        return out.toString();
    }

    @Test
    @Timeout(60)
    void pgjdbcDeallocatingItsStatementBehavesAsOnPostgres() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        String direct = pgjdbcRun("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + DB);
        String viaPgferry = pgjdbcRun("jdbc:postgresql://127.0.0.1:" + port + "/" + DB);
        assertThat(direct).startsWith("5 5 0 26000 ");
        assertThat(viaPgferry).isEqualTo(direct);
    }

    static final String PSYCOPG_SCRIPT = """
            import sys, psycopg
            host, port = sys.argv[1], sys.argv[2]
            conn = psycopg.connect(host=host, port=port, user="postgres", password="secret", dbname="postgres",
                                   autocommit=True)
            def run(sql):
                try:
                    # prepared unless plain SQL to drop a statement: that goes as a simple Query
                    cur = conn.execute(sql, prepare=not sql.startswith("DEALLOCATE"))
                    print(sql, "->", cur.statusmessage, cur.fetchall() if cur.description else "")
                except psycopg.Error as e:
                    print(sql, "->", e.sqlstate, e.diag.message_primary)
            run("select 7")
            run("DEALLOCATE _pg3_0")
            run("DEALLOCATE _pg3_0")
            run("select 8")
            with conn.transaction():
                run("DEALLOCATE _pg3_1")
            run("select 8")
            """;

    /**
     * psycopg 3.1 with its default settings but {@code prepared_max}: when a new text comes, it evicts the oldest of
     * more than {@code prepared_max} prepared statements with {@code DEALLOCATE _pg3_n}, sent as an unnamed
     * Parse/Bind/Describe/Execute/Sync (pipelined in pipeline mode), and raises if that fails. A text evicted is
     * prepared again under a new name.
     */
    static final String PSYCOPG_EVICTING_SCRIPT = """
            import sys, psycopg
            host, port = sys.argv[1], sys.argv[2]
            conn = psycopg.connect(host=host, port=port, user="postgres", password="secret", dbname="postgres",
                                   autocommit=True)
            conn.prepared_max = 1
            def run(sql):
                for _ in range(6):  # prepared at the 6th run (prepare_threshold 5)
                    cur = conn.execute(sql)
                names = [n.decode() for n in conn._prepared._names.values()]
                print(sql, "->", cur.statusmessage, cur.fetchall(), names)
            run("select 1")
            run("select 2")
            run("select 3")  # evicts _pg3_0
            run("select 1")
            with conn.transaction():
                run("select 4")
                run("select 2")
            if psycopg.Pipeline.is_supported():
                with conn.pipeline():
                    run("select 5")
                    run("select 1")
            run("select 6")
            """;

    static String runPsycopg(int port) throws IOException, InterruptedException {
        return runPsycopg(port, "sql_deallocate.py", PSYCOPG_SCRIPT);
    }

    static String runPsycopg(int port, String name, String text) throws IOException, InterruptedException {
        Path dir = Path.of("target", "psycopg").toAbsolutePath();
        Files.createDirectories(dir);
        Path script = dir.resolve(name);
        Files.writeString(script, text);
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), "127.0.0.1", String.valueOf(port))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("psycopg script did not finish: " + out);
        }
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    @Timeout(120)
    void psycopgSendingDeallocateAsPlainSqlBehavesAsOnPostgres() throws Exception {
        assumeTrue(PreparedSessionEffectsTest.psycopgInstalled(),
                "/usr/bin/python3 has no psycopg (Debian package python3-psycopg): skipped");
        String direct = runPsycopg(PostgresFixture.get().port());
        assertThat(direct).contains("DEALLOCATE _pg3_0 -> DEALLOCATE", "DEALLOCATE _pg3_0 -> 26000");
        assertThat(runPsycopg(port)).isEqualTo(direct);
    }

    @Test
    @Timeout(120)
    void psycopgEvictingStatementsFromItsCacheBehavesAsOnPostgres() throws Exception {
        assumeTrue(PreparedSessionEffectsTest.psycopgInstalled(),
                "/usr/bin/python3 has no psycopg (Debian package python3-psycopg): skipped");
        String direct = runPsycopg(PostgresFixture.get().port(), "evicting.py", PSYCOPG_EVICTING_SCRIPT);
        assertThat(direct).contains("select 3 -> SELECT 1 [(3,)] ['_pg3_1', '_pg3_2']",
                "select 1 -> SELECT 1 [(1,)] ['_pg3_2', '_pg3_3']");
        assertThat(runPsycopg(port, "evicting.py", PSYCOPG_EVICTING_SCRIPT)).isEqualTo(direct);
    }
}
