package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * client_encoding is a client's own even on a shared backend: one that switched to LATIN1 talks LATIN1, and the
 * client after it on the same server process still talks UTF8. A is a raw protocol client (pgjdbc refuses any
 * client_encoding but UTF8), B is pgjdbc, which fails loudly if it is ever sent another encoding. Pool
 * {@code postgres/plain_u} of one backend.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class ClientEncodingIsolationTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "plain_u";
    static final String DB = "postgres";
    static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    /** Every character is in LATIN1 and takes two bytes in UTF8. */
    static final String ACCENTED = "Grüße, café, naïve";
    /** The euro sign has no LATIN1 code: a server session in LATIN1 could not send it. */
    static final String UTF8_ONLY = ACCENTED + " 5 €";

    @ParameterizedTest
    @ValueSource(strings = {"set client_encoding = 'LATIN1'", "set names 'LATIN1'"})
    @Timeout(60)
    void latin1OfOneClientIsInvisibleToTheNextOnTheSameBackend(String setLatin1) throws Exception {
        List<Msg> seenByA = new ArrayList<>();
        try (RawWireClient a = RawWireClient.login(Clients.HOST, port, 10_000, USER, Clients.PASSWORDS.get(USER), DB);
                Connection b = Clients.proxy(port, USER, DB)) {
            List<Msg> set = a.exchange(1, RawWireClient.query(setLatin1));
            seenByA.addAll(set);
            assertThat(parameterStatus(set)).as("A is told of its new encoding").containsExactly("client_encoding=LATIN1");
            assertThat(set).extracting(Msg::type).doesNotContain((int) 'E');
            String pidOfA = text(a, "select pg_backend_pid()", StandardCharsets.UTF_8, seenByA);

            assertThat(one(b, "select pg_backend_pid()")).as("one server process for both").isEqualTo(pidOfA);
            assertThat(one(b, "show client_encoding")).isEqualTo("UTF8");
            assertThat(one(b, "select '" + UTF8_ONLY + "'")).isEqualTo(UTF8_ONLY);
            assertThat(one(b, "select length('" + UTF8_ONLY + "')")).isEqualTo(String.valueOf(UTF8_ONLY.length()));

            assertThat(text(a, "show client_encoding", LATIN1, seenByA)).isEqualTo("LATIN1");
            // A's query and answer are LATIN1 bytes: one byte per accented letter, read right by the server
            assertThat(text(a, "select '" + ACCENTED + "'", LATIN1, seenByA)).isEqualTo(ACCENTED);
            assertThat(text(a, "select length('" + ACCENTED + "') || ' ' || octet_length(convert_to('" + ACCENTED
                    + "', 'UTF8'))", LATIN1, seenByA)).isEqualTo(ACCENTED.length() + " "
                            + ACCENTED.getBytes(StandardCharsets.UTF_8).length);
            assertThat(text(a, "select pg_backend_pid()", LATIN1, seenByA)).isEqualTo(pidOfA);

            assertThat(one(b, "show client_encoding")).as("B after A's second turn").isEqualTo("UTF8");
            assertThat(one(b, "select '" + UTF8_ONLY + "'")).isEqualTo(UTF8_ONLY);
        }
        assertThat(parameterStatus(seenByA)).as("A never hears of another encoding")
                .allMatch(p -> !p.startsWith("client_encoding=") || p.equals("client_encoding=LATIN1"));
        try (Connection fresh = Clients.proxy(port, USER, DB)) {
            assertThat(one(fresh, "show client_encoding")).isEqualTo("UTF8");
            assertThat(one(fresh, "select '" + UTF8_ONLY + "'")).isEqualTo(UTF8_ONLY);
        }
    }

    /** Runs {@code sql} as a simple query in {@code charset}; the one column of its one row, decoded likewise. */
    private static String text(RawWireClient c, String sql, Charset charset, List<Msg> seen) throws IOException {
        byte[] q = sql.getBytes(charset);
        List<Msg> reply = c.exchange(1, RawWireClient.message('Q', RawWireClient.concat(q, new byte[] {0})));
        seen.addAll(reply);
        List<String> values = new ArrayList<>();
        for (Msg m : reply) {
            assertThat(m.type()).as("reply to %s: %s", sql, reply).isNotEqualTo((int) 'E');
            if (m.type() == 'D') {
                ByteBuffer row = ByteBuffer.wrap(m.body());
                assertThat(row.getShort()).isEqualTo((short) 1);
                byte[] v = new byte[row.getInt()];
                row.get(v);
                values.add(new String(v, charset));
            }
        }
        assertThat(values).as("rows of %s", sql).hasSize(1);
        return values.get(0);
    }

    /** The ParameterStatus messages among {@code messages}, as name=value. */
    private static List<String> parameterStatus(List<Msg> messages) {
        List<String> out = new ArrayList<>();
        for (Msg m : messages) {
            if (m.type() == 'S') {
                String[] kv = new String(m.body(), StandardCharsets.UTF_8).split("\0");
                out.add(kv[0] + "=" + kv[1]);
            }
        }
        return out;
    }
}
