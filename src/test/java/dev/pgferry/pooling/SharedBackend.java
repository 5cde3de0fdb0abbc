package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Two raw clients of one pgferry backend ({@link TinyPoolProfile}, {@code postgres/postgres}) against one straight to
 * PostgreSQL: a scenario runs on a direct session and on a pgferry session, and both transcripts must be equal message
 * for message and byte for byte. Through pgferry a second client ({@link Other}) asks for the same backend while the
 * first holds it, and must get exactly a clean answer, neither too early (the backend released mid-flow) nor never
 * (the backend kept).
 */
final class SharedBackend {
    static final String USER = "postgres";
    static final String DB = "postgres";
    static final int READ_TIMEOUT_MILLIS = 5000;
    /** How long the other client's query must stay unanswered while the first client holds the backend. */
    static final int HELD_MILLIS = 300;

    interface Scenario {
        List<Msg> run(RawWireClient a, Other b) throws Exception;
    }

    private final int port;
    private final Runnable beforeEachRun;

    SharedBackend(int port, Runnable beforeEachRun) {
        this.port = port;
        this.beforeEachRun = beforeEachRun;
    }

    static RawWireClient direct() throws IOException {
        PostgresFixture pg = PostgresFixture.get();
        return RawWireClient.login(pg.host(), pg.port(), READ_TIMEOUT_MILLIS, USER, Clients.PASSWORDS.get(USER), DB);
    }

    RawWireClient proxy() throws IOException {
        return RawWireClient.login(Clients.HOST, port, READ_TIMEOUT_MILLIS, USER, Clients.PASSWORDS.get(USER), DB);
    }

    /** Runs the scenario straight on PostgreSQL, then through pgferry with a second client: same transcript. */
    List<Msg> sameAsPostgres(Scenario scenario) throws Exception {
        List<Msg> expected;
        beforeEachRun.run();
        try (RawWireClient a = direct()) {
            expected = scenario.run(a, new Other(null));
        }
        beforeEachRun.run();
        List<Msg> actual;
        try (RawWireClient a = proxy(); RawWireClient b = proxy()) {
            Other other = new Other(b);
            actual = scenario.run(a, other);
            other.servedPromptly(); // and after the scenario, the backend is free for it at once
        }
        assertThat(actual).as("through pgferry vs PostgreSQL").containsExactlyElementsOf(expected);
        return actual;
    }

    /** The other client of the shared backend; does nothing in the run straight on PostgreSQL. */
    static final class Other {
        static final String QUESTION = "select 'other', txid_current_if_assigned() is null, now() = statement_timestamp()";
        private final RawWireClient c;
        private boolean asked;

        Other(RawWireClient c) {
            this.c = c;
        }

        /** Asks while the first client holds the backend: no answer may come for {@link #HELD_MILLIS}. */
        void askWhileHeld() throws IOException {
            if (c == null) {
                return;
            }
            c.send(RawWireClient.query(QUESTION));
            asked = true;
            c.timeout(HELD_MILLIS);
            try {
                Msg m = c.read();
                fail("the other client was answered while the first held the backend: " + m);
            } catch (SocketTimeoutException expected) {
                // still waiting for the backend
            } finally {
                c.timeout(READ_TIMEOUT_MILLIS);
            }
        }

        /** The first client let the backend go: the question asked meanwhile gets its exact answer now. */
        void answered() throws IOException {
            if (c == null) {
                return;
            }
            assertThat(asked).as("askWhileHeld came first").isTrue();
            asked = false;
            assertCleanAnswer(c.readUntilReady());
        }

        /** The backend is free: a question asked now is answered within a second (the pool wait is 2 s). */
        void servedPromptly() throws IOException {
            if (c == null) {
                return;
            }
            long t0 = System.nanoTime();
            assertCleanAnswer(c.exchange(1, RawWireClient.query(QUESTION)));
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds for the other client to be served").isLessThan(1.0);
        }

        private static void assertCleanAnswer(List<Msg> reply) {
            assertThat(types(reply)).as("%s", reply).isEqualTo("TDCZ");
            assertThat(values(reply.get(1))).as("no transaction left open by the first client")
                    .containsExactly("other", "t", "t");
            assertThat(reply.get(3)).isEqualTo(ready('I'));
        }
    }

    static void truncate(String table) {
        try {
            Clients.directExec(DB, "truncate " + table);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- transcripts ------------------------------------------------------------------------------------

    static String types(List<Msg> transcript) {
        StringBuilder b = new StringBuilder();
        for (Msg m : transcript) {
            b.append(m.type() == -1 ? '!' : (char) m.type());
        }
        return b.toString();
    }

    /** The columns of a DataRow, as text (null for SQL NULL). */
    static List<String> values(Msg row) {
        assertThat((char) row.type()).isEqualTo('D');
        byte[] b = row.body();
        int n = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
        List<String> out = new ArrayList<>();
        int i = 2;
        for (int k = 0; k < n; k++) {
            int len = ((b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
            i += 4;
            out.add(len < 0 ? null : new String(b, i, len, StandardCharsets.UTF_8));
            i += Math.max(len, 0);
        }
        return out;
    }

    static Msg ready(char status) {
        return new Msg('Z', new byte[] {(byte) status});
    }

    /** The next {@code n} messages. */
    static List<Msg> read(RawWireClient c, int n) throws IOException {
        List<Msg> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(c.read());
        }
        return all;
    }

    // ---- frontend messages RawWireClient lacks ------------------------------------------------------------

    static byte[] bindPortal(String portal, String statement) {
        return RawWireClient.message('B', RawWireClient.concat(RawWireClient.cstring(portal),
                RawWireClient.cstring(statement), new byte[] {0, 0, 0, 0, 0, 0}));
    }

    static byte[] execute(String portal, int maxRows) {
        byte[] limit = new byte[4];
        RawWireClient.setInt(limit, 0, maxRows);
        return RawWireClient.message('E', RawWireClient.concat(RawWireClient.cstring(portal), limit));
    }

    static byte[] flush() {
        return RawWireClient.message('H', new byte[0]);
    }

    static byte[] copyData(String text) {
        return RawWireClient.message('d', text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] copyDone() {
        return RawWireClient.message('c', new byte[0]);
    }

    static byte[] copyFail(String why) {
        return RawWireClient.message('f', RawWireClient.cstring(why));
    }

    /** FunctionCall of {@code oid} with text arguments and a text result. */
    static byte[] functionCall(int oid, String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] i4 = new byte[4];
        RawWireClient.setInt(i4, 0, oid);
        b.writeBytes(i4);
        b.writeBytes(new byte[] {0, 1, 0, 0}); // one format code for all arguments: text
        b.writeBytes(new byte[] {(byte) (args.length >>> 8), (byte) args.length});
        for (String a : args) {
            byte[] v = a.getBytes(StandardCharsets.UTF_8);
            RawWireClient.setInt(i4, 0, v.length);
            b.writeBytes(i4);
            b.writeBytes(v);
        }
        b.writeBytes(new byte[] {0, 0}); // result format: text
        return RawWireClient.message('F', b.toByteArray());
    }
}
