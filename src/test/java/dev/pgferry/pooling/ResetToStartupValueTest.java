package dev.pgferry.pooling;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.describeStatement;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A RESET of a startup parameter (also RESET ALL, SET x TO DEFAULT, SET LOCAL x TO DEFAULT) returns it to the
 * client's startup value at once on PostgreSQL, also for the statements after it in the same query string. Through
 * pgferry (transaction mode, one backend, another client with other startup values taking turns on it) every message
 * the client gets must be the same, byte for byte: tags, rows, ParameterStatus, errors and their positions,
 * transaction status. Found by the differential test (issue 16, seed 20261207).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class ResetToStartupValueTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "scram_u";
    static final String PASSWORD = "scram_pw";
    static final String DB = "postgres";

    private static final String READ = "select current_setting('DateStyle') as ds, current_setting('work_mem') as wm,"
            + " current_setting('statement_timeout') as st, current_setting('TimeZone') as tz";

    /** Simple query strings: each one's whole answer. */
    private static final List<String> STRINGS = List.of(
            "set datestyle = 'German'; set work_mem = '1MB'",
            "RESET DateStyle; " + READ,
            "set datestyle = 'German'; RESET DateStyle; " + READ,
            "set datestyle = 'German'; set work_mem = '1MB'; RESET ALL; " + READ,
            "set datestyle = 'German'; SET DateStyle TO DEFAULT; " + READ,
            "set work_mem = '2MB'; set work_mem = default; " + READ,
            "set timezone = 'Europe/Paris'; SET TIME ZONE LOCAL; " + READ,
            "begin; set datestyle = 'German'; RESET DateStyle; " + READ + "; rollback; " + READ,
            "begin; SET LOCAL DateStyle TO DEFAULT; " + READ + "; commit; " + READ,
            "set datestyle = 'German'",
            "begin; reset all; " + READ + "; rollback",
            READ,
            "RESET DateStyle; START TRANSACTION ISOLATION LEVEL REPEATABLE READ; " + READ + "; commit",
            "RESET DateStyle; select * from no_such_table_é; " + READ, // an error position after the insertion
            READ,
            "set datestyle = 'German'; RESET ALL; select 1/0; " + READ, // the RESET ALL rolls back with the string
            READ,
            "begin; RESET work_mem; savepoint s; reset datestyle; rollback to savepoint s; " + READ + "; commit",
            "RESET DateStyle; RESET DateStyle; ; " + READ + ";",
            "SET datestyle = 'German'; DISCARD ALL; " + READ, // refused inside the implicit block, as on PostgreSQL
            READ,
            "DISCARD ALL",
            READ,
            "set datestyle = 'German'",
            "DISCARD ALL",
            READ,
            "RESET DateStyle", // at its startup value already: no ParameterStatus
            "set datestyle = 'German'",
            "RESET ALL",
            READ,
            "begin; set datestyle = 'German'; set timezone = 'UTC'",
            "DISCARD ALL", // fails in the block: the values the abort reverts to are reported (seed 20261206)
            "rollback",
            READ);

    @Test
    @Timeout(60)
    void statementsAfterAResetInTheSameStringSeeTheStartupValueAsOnPostgres() throws Exception {
        List<String> direct = run(PostgresFixture.get().port(), STRINGS);
        List<String> proxied = run(port, STRINGS);
        assertThat(proxied).containsExactlyElementsOf(direct);
        assertThat(direct.get(1)).contains("SQL, DMY|||\\x031MB|||\\x029s");
    }

    private static List<String> run(int port, List<String> strings) throws Exception {
        List<String> answers = new ArrayList<>();
        try (RawWireClient a = RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB,
                        "DateStyle", "SQL, DMY", "options", "-c work_mem=256kB -c statement_timeout=9s");
                RawWireClient b = RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB,
                        "DateStyle", "Postgres, YMD", "TimeZone", "Asia/Tokyo")) {
            for (String sql : strings) {
                a.send(query(sql));
                answers.add(sql + " -> " + render(a.readUntilReady()));
                b.send(query("select 1")); // the neighbour takes its turn on the one backend
                b.readUntilReady();
            }
        }
        return answers;
    }

    /** One extended-protocol exchange: its messages, and how many ReadyForQuery end its answer. */
    private record Exchange(int readies, byte[]... messages) {}

    private static Exchange q(String sql) {
        return new Exchange(1, query(sql));
    }

    private static byte[][] run(String sql) {
        return new byte[][] {parse("", sql), bind(""), execute()};
    }

    private static byte[][] all(byte[][]... parts) {
        List<byte[]> l = new ArrayList<>();
        for (byte[][] p : parts) {
            l.addAll(List.of(p));
        }
        return l.toArray(byte[][]::new);
    }

    private static final List<Exchange> PIPELINES = List.of(
            q("set datestyle = 'German'; set work_mem = '1MB'"),
            new Exchange(1, all(run("RESET DateStyle"), run(READ), new byte[][] {sync()})),
            q("set datestyle = 'German'"),
            new Exchange(2, all(run("RESET DateStyle"), new byte[][] {sync()}, run(READ), new byte[][] {sync()})),
            q("set datestyle = 'German'"),
            new Exchange(1, all(run("SET DateStyle TO DEFAULT"), run("RESET work_mem"), run(READ), new byte[][] {sync()})),
            new Exchange(1, parse("r", "RESET DateStyle"), describeStatement("r"), sync()),
            q("set datestyle = 'German'"),
            new Exchange(1, all(new byte[][] {bind("r"), execute()}, run(READ), new byte[][] {sync()})),
            q("begin; set datestyle = 'German'"),
            new Exchange(1, all(new byte[][] {bind("r"), execute()}, run(READ), new byte[][] {sync()})),
            q("rollback"),
            q(READ),
            q("begin; set datestyle = 'German'"),
            new Exchange(1, all(run("SET LOCAL DateStyle TO DEFAULT"), run(READ), new byte[][] {sync()})),
            q("commit"),
            q(READ),
            q("set datestyle = 'German'"),
            new Exchange(1, all(new byte[][] {bind("r"), execute()}, run("select 1/0"), run(READ), new byte[][] {sync()})),
            q(READ),
            new Exchange(1, all(new byte[][] {bind("r"), execute(), bind("r"), execute()}, run(READ), new byte[][] {sync()})));

    /**
     * RESET ALL and a SET after it in the same transaction, each in its own request of a pipeline: the startup values
     * are put back once the client waits for nothing, not only if the last request reset something (differential seed
     * 20261206). The client's startup parameter is one the server does not report: a reported one would show the
     * server's default in ParameterStatus first (RESET ALL in the extended protocol is left to that fixup).
     */
    @Test
    @Timeout(60)
    void aResetAllFollowedByASetInAPipelineIsPutRightAsOnPostgres() throws Exception {
        List<String> direct = resetAllPipeline(PostgresFixture.get().port());
        assertThat(resetAllPipeline(port)).containsExactlyElementsOf(direct);
        assertThat(direct.get(1)).contains("\\x05256kB");
    }

    private static List<String> resetAllPipeline(int port) throws Exception {
        List<String> answers = new ArrayList<>();
        try (RawWireClient a = RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB,
                "options", "-c work_mem=256kB")) {
            a.exchange(1, query("set work_mem = '1MB'"));
            answers.add(render(a.exchange(3, all(run("begin"), new byte[][] {sync()}, run("RESET ALL"),
                    new byte[][] {sync()}, run("set search_path = 'public'"), new byte[][] {sync()}))));
            answers.add(render(a.exchange(1, query(READ))));
            answers.add(render(a.exchange(1, query("rollback"))));
            answers.add(render(a.exchange(1, query(READ))));
        }
        return answers;
    }

    /**
     * The extended protocol: a RESET's Parse, unnamed and named, then more in the same pipeline, after a Sync or
     * not. The neighbour prepares the same text under the same name with other startup values: the statement
     * pgferry prepares on the server for one must never answer for the other.
     */
    @Test
    @Timeout(60)
    void statementsAfterAResetInTheSamePipelineSeeTheStartupValueAsOnPostgres() throws Exception {
        List<String> direct = runPipelines(PostgresFixture.get().port());
        List<String> proxied = runPipelines(port);
        assertThat(proxied).containsExactlyElementsOf(direct);
        assertThat(direct.stream().filter(x -> x.startsWith("1 -> ")).findFirst().orElseThrow())
                .contains("SQL, DMY|||\\x031MB");
    }

    private static List<String> runPipelines(int port) throws Exception {
        List<String> answers = new ArrayList<>();
        try (RawWireClient a = RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB,
                        "DateStyle", "SQL, DMY", "options", "-c work_mem=256kB -c statement_timeout=9s");
                RawWireClient b = RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB,
                        "DateStyle", "Postgres, YMD", "TimeZone", "Asia/Tokyo")) {
            b.exchange(1, parse("r", "RESET DateStyle"), sync());
            int n = 0;
            for (Exchange e : PIPELINES) {
                String answer = render(a.exchange(e.readies(), e.messages()));
                answers.add(n++ + " -> " + answer);
                if (!answer.endsWith("Z[I]")) {
                    continue; // the one backend is a's until its transaction ends
                }
                String other = render(b.exchange(1, all(new byte[][] {query("set datestyle = 'German'")})));
                answers.add("neighbour " + other);
                other = render(b.exchange(1, all(new byte[][] {bind("r"), execute()}, run("show datestyle"),
                        new byte[][] {sync()})));
                answers.add("neighbour " + other);
            }
        }
        return answers;
    }

    /** Every message, its body readable (fields split by '|'). */
    static String render(List<RawWireClient.Msg> messages) {
        StringBuilder sb = new StringBuilder();
        for (RawWireClient.Msg m : messages) {
            sb.append(' ').append((char) m.type()).append('[');
            for (byte x : m.body()) {
                sb.append(x == 0 ? "|" : x >= 32 && x < 127 ? String.valueOf((char) x) : String.format("\\x%02x", x));
            }
            sb.append(']');
        }
        return new String(sb.toString().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    }
}
