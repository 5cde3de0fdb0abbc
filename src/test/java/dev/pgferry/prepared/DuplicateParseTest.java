package dev.pgferry.prepared;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.closePortal;
import static dev.pgferry.testing.RawWireClient.closeStatement;
import static dev.pgferry.testing.RawWireClient.describeStatement;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Parse of a statement name the client already has is PostgreSQL's error 42P05, with everything up to Sync
 * skipped and an explicit transaction aborted. Each scenario sends the same bytes to PostgreSQL itself and
 * through pgferry (one backend, so every client shares it) and the two transcripts must be equal, message for
 * message and byte for byte.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(DuplicateParseTest.OneBackend.class)
class DuplicateParseTest {
    static final String DB = "postgres";

    public static class OneBackend implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.pool.size", "1", "pgferry.pool.query-wait-timeout", "2s");
        }
    }

    interface Scenario {
        List<Msg> run(RawWireClient s) throws IOException;
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static RawWireClient direct() throws IOException {
        PostgresFixture pg = PostgresFixture.get();
        return RawWireClient.login(pg.host(), pg.port(), 20_000, "postgres", "secret", DB);
    }

    RawWireClient proxy() throws IOException {
        return RawWireClient.login("127.0.0.1", port, 20_000, "postgres", "secret", DB);
    }

    /** Runs the scenario on a fresh session straight to PostgreSQL and one through pgferry: same transcript. */
    List<Msg> sameAsPostgres(Scenario scenario) throws IOException {
        List<Msg> expected;
        try (RawWireClient s = direct()) {
            expected = scenario.run(s);
        }
        List<Msg> actual;
        try (RawWireClient s = proxy()) {
            actual = scenario.run(s);
        }
        assertThat(actual).as("through pgferry vs PostgreSQL").containsExactlyElementsOf(expected);
        return actual;
    }

    static String errors(List<Msg> transcript) {
        StringBuilder b = new StringBuilder();
        for (Msg m : transcript) {
            if (m.type() == 'E') {
                b.append(m.field('C')).append(' ').append(m.field('M')).append('\n');
            }
        }
        return b.toString();
    }

    static String readies(List<Msg> transcript) {
        StringBuilder b = new StringBuilder();
        for (Msg m : transcript) {
            if (m.type() == 'Z') {
                b.append((char) m.body()[0]);
            }
        }
        return b.toString();
    }

    static String types(List<Msg> transcript) {
        StringBuilder b = new StringBuilder();
        for (Msg m : transcript) {
            b.append((char) m.type());
        }
        return b.toString();
    }

    static final String EXISTS = "42P05 prepared statement \"S1\" already exists\n";

    @Test
    @Timeout(60)
    void duplicateParseThenSyncIs42P05AndTheFirstDefinitionStays() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("S1", "select 1"), sync());
            // same text (pgferry's backend has the statement) and another text (it has not)
            all.addAll(s.exchange(1, parse("S1", "select 1"), sync()));
            all.addAll(s.exchange(1, parse("S1", "select 2"), sync()));
            all.addAll(s.exchange(1, bind("S1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("1Z" + "EZ" + "EZ" + "2DCZ");
        assertThat(errors(t)).isEqualTo(EXISTS + EXISTS);
        Msg error = t.get(2);
        assertThat(error.field('S')).isEqualTo("ERROR");
        assertThat(error.field('V')).isEqualTo("ERROR");
        assertThat(readies(t)).isEqualTo("IIII");
        assertThat(t.get(t.size() - 3).toString()).contains("DataRow").isEqualTo(dataRow("1"));
    }

    private static String dataRow(String value) {
        byte[] v = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] body = RawWireClient.concat(new byte[] {0, 1, 0, 0, 0, (byte) v.length}, v);
        return new Msg('D', body).toString();
    }

    @Test
    @Timeout(60)
    void inAPipelineTheMessagesAfterTheDuplicateAreSkippedUpToSync() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("S1", "select 1"), bind("S1"), execute(),
                    parse("S1", "select 2"), bind("S1"), execute(), sync());
            all.addAll(s.exchange(1, bind("S1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("12DCEZ" + "2DCZ");
        assertThat(errors(t)).isEqualTo(EXISTS);
        assertThat(readies(t)).isEqualTo("II");
        assertThat(t.get(t.size() - 3).toString()).isEqualTo(dataRow("1"));
    }

    @Test
    @Timeout(60)
    void answersPgferryGivesItselfAfterTheDuplicateAreSkippedToo() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("A", "select 10"), sync());
            // B: the backend has the statement, pgferry answers; A again: 42P05; C and Close A must not happen
            all.addAll(s.exchange(1, parse("B", "select 10"), describeStatement("B"), parse("A", "select 11"),
                    parse("C", "select 10"), closeStatement("A"), bind("B"), execute(), sync()));
            all.addAll(s.exchange(1, bind("A"), execute(), sync()));
            all.addAll(s.exchange(1, bind("C"), execute(), sync()));
            all.addAll(s.exchange(1, bind("B"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("1Z" + "1tTEZ" + "2DCZ" + "EZ" + "2DCZ");
        assertThat(errors(t)).isEqualTo("42P05 prepared statement \"A\" already exists\n"
                + "26000 prepared statement \"C\" does not exist\n");
    }

    @Test
    @Timeout(60)
    void errorsPostgresFindsBeforeTheNameWinOver42P05() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("S1", "select 1"), sync());
            all.addAll(s.exchange(1, parse("S1", "selec 2"), bind("S1"), execute(), sync()));
            all.addAll(s.exchange(1, parse("S1", "select * from pgferry_no_such_table"), sync()));
            all.addAll(s.exchange(1, bind("S1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("1Z" + "EZ" + "EZ" + "2DCZ");
        assertThat(errors(t)).startsWith("42601 syntax error at or near \"selec\"\n42P01 relation");
    }

    @Test
    @Timeout(60)
    void insideATransactionTheDuplicateAbortsItUntilRollbackAndTheBackendComesBackClean() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, query("begin"));
            all.addAll(s.exchange(1, parse("S1", "select 1"), bind("S1"), execute(), sync()));
            all.addAll(s.exchange(1, parse("S1", "select 2"), bind("S1"), execute(), sync()));
            all.addAll(s.exchange(1, query("select 3")));
            all.addAll(s.exchange(1, parse("S2", "select 4"), sync()));
            // a duplicate in the aborted transaction: PostgreSQL checks the transaction first
            all.addAll(s.exchange(1, parse("S1", "select 5"), sync()));
            all.addAll(s.exchange(1, query("rollback")));
            all.addAll(s.exchange(1, bind("S1"), execute(), sync()));
            all.addAll(s.exchange(1, parse("S2", "select 6"), bind("S2"), execute(), sync()));
            return all;
        });
        assertThat(readies(t)).isEqualTo("TTEEEEIII");
        assertThat(errors(t)).startsWith(EXISTS + "25P02 current transaction is aborted");
        assertThat(errors(t).lines()).hasSize(4);
        assertThat(types(t)).endsWith("CZ" + "2DCZ" + "12DCZ");

        // the one backend went back to the pool outside any transaction, and serves another client at once
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", "secret");
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "30");
        p.setProperty("preferQueryMode", "simple"); // one Query: now() = statement_timestamp() in a transaction of its own
        long t0 = System.nanoTime();
        try (Connection c = new org.postgresql.Driver().connect(
                        "jdbc:postgresql://127.0.0.1:" + port + "/" + DB, p);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "select now() = statement_timestamp(), txid_current_if_assigned() is null, 7")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as("a transaction of its own").isTrue();
            assertThat(rs.getBoolean(2)).isTrue();
            assertThat(rs.getInt(3)).isEqualTo(7);
        }
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds to be served").isLessThan(1.5);
    }

    @Test
    @Timeout(60)
    void theUnnamedStatementIsReplacedSilently() throws Exception {
        List<Msg> t = sameAsPostgres(s -> s.exchange(1, parse("", "select 1"), parse("", "select 2"), bind(""),
                execute(), sync()));
        assertThat(types(t)).isEqualTo("112DCZ");
        assertThat(t.get(3).toString()).isEqualTo(dataRow("2"));
    }

    @Test
    @Timeout(60)
    void closeOfAMissingStatementOrPortalIsNoError() throws Exception {
        List<Msg> t = sameAsPostgres(s -> s.exchange(1, closeStatement("nope"), closePortal("nope"), sync()));
        assertThat(types(t)).isEqualTo("33Z");
    }

    @Test
    @Timeout(60)
    void afterCloseTheNameCanBeParsedAgain() throws Exception {
        List<Msg> t = sameAsPostgres(s -> {
            List<Msg> all = s.exchange(1, parse("S1", "select 1"), bind("S1"), execute(), sync());
            all.addAll(s.exchange(1, closeStatement("S1"), parse("S1", "select 2"), bind("S1"), execute(), sync()));
            all.addAll(s.exchange(1, closeStatement("S1"), sync()));
            all.addAll(s.exchange(1, bind("S1"), execute(), sync()));
            all.addAll(s.exchange(1, parse("S1", "select 3"), bind("S1"), execute(), sync()));
            return all;
        });
        assertThat(types(t)).isEqualTo("12DCZ" + "312DCZ" + "3Z" + "EZ" + "12DCZ");
        assertThat(errors(t)).isEqualTo("26000 prepared statement \"S1\" does not exist\n");
        assertThat(t.get(8).toString()).isEqualTo(dataRow("2"));
    }
}
