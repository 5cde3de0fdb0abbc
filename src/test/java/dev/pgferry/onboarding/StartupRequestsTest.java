package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SSLRequest, GSSENCRequest, CancelRequest, protocol 3.0/3.2 and NegotiateProtocolVersion, on a raw socket. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class StartupRequestsTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private static Map<String, String> parameters(List<RawClient.Message> messages) {
        return messages.stream().filter(m -> m.type() == 'S').map(RawClient.Message::parameter)
                .collect(Collectors.toMap(p -> p[0], p -> p[1]));
    }

    private static RawClient.Message only(List<RawClient.Message> messages, char type) {
        List<RawClient.Message> of = messages.stream().filter(m -> m.type() == type).toList();
        assertThat(of).as("one '%s'", type).hasSize(1);
        return of.get(0);
    }

    /** Runs a query on a logged-in raw connection and returns the single value. */
    private static String queryOne(RawClient c, String sql) throws Exception {
        c.send(WireBytes.query(sql));
        List<RawClient.Message> reply = c.readUntilReady();
        RawClient.Message row = only(reply, 'D');
        int len = row.int32(2);
        return new String(row.body(), 6, len, StandardCharsets.UTF_8);
    }

    /** Reported by every PostgreSQL since 14 (later ones add more): pgferry passes the server's list on. */
    static final List<String> REPORTED_BY_EVERY_SERVER = List.of("application_name", "client_encoding", "DateStyle",
            "default_transaction_read_only", "in_hot_standby", "integer_datetimes", "IntervalStyle", "is_superuser",
            "server_encoding", "server_version", "session_authorization", "standard_conforming_strings", "TimeZone");

    /**
     * The welcome in order, as from PostgreSQL: AuthenticationSASLFinal, AuthenticationOk, then one ParameterStatus per
     * server parameter, exactly one BackendKeyData and ReadyForQuery 'I', nothing else; the next bytes on the wire are
     * the answer to the first query.
     */
    @Test
    void theWelcomeIsAuthenticationOkThenParameterStatusThenOneBackendKeyDataThenReadyForQuery() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "scram_u", "database", "postgres"));
            c.scramLogin("scram_u", "scram_pw"); // ends with AuthenticationOk right after AuthenticationSASLFinal
            List<RawClient.Message> welcome = c.readWelcome();
            List<String> names = welcome.stream().filter(m -> m.type() == 'S').map(m -> m.parameter()[0]).toList();
            assertThat(names).as("each parameter once").doesNotHaveDuplicates().containsAll(REPORTED_BY_EVERY_SERVER);
            assertThat(parameters(welcome)).containsEntry("session_authorization", "scram_u");
            assertThat(only(welcome, 'K').body()).hasSize(4 + 4);
            c.send(WireBytes.query("select 1"));
            assertThat(c.readUntilReady()).extracting(RawClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
        }
    }

    @Test
    void sslRequestIsAnsweredNAndStartupContinuesOnTheSameSocket() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE).toArray());
            assertThat(c.readByte()).isEqualTo('N');
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres", "database", "postgres"));
            c.scramLogin("postgres", "secret");
            List<RawClient.Message> welcome = c.readUntilReady();
            assertThat(welcome.get(welcome.size() - 1).body()).containsExactly('I');
            assertThat(queryOne(c, "select current_user")).isEqualTo("postgres");
        }
    }

    @Test
    void gssEncRequestIsAnsweredNAndStartupContinues() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(8).int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray());
            assertThat(c.readByte()).isEqualTo('N');
            c.send(WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE).toArray());
            assertThat(c.readByte()).isEqualTo('N');
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres", "database", "postgres"));
            c.scramLogin("postgres", "secret");
            c.readUntilReady();
            assertThat(queryOne(c, "select 1")).isEqualTo("1");
        }
    }

    /**
     * Bytes sent behind an SSLRequest or GSSENCRequest before its answer are refused even when the answer is 'N', as
     * PostgreSQL does (ProcessStartupPacket: FATAL 08P01 after the 'N') and PgBouncer: a man in the middle could have
     * put them there.
     */
    @ParameterizedTest(name = "{1}")
    @CsvSource({"80877103, SSL request", "80877104, GSSAPI encryption request"})
    void startupInTheSameWriteAsAnEncryptionRequestIsRefusedAfterTheN(int code, String request) throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(8).int32(code)
                    .bytes(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres")).toArray());
            assertThat(c.readByte()).isEqualTo('N');
            RawClient.Message e = c.expect('E');
            assertThat(e.fields()).containsEntry('S', "FATAL").containsEntry('C', "08P01")
                    .containsEntry('M', "received unencrypted data after " + request).containsEntry('D',
                            "This could be either a client-software bug or evidence of an attempted man-in-the-middle"
                                    + " attack.");
            assertThat(c.closedWithin(java.time.Duration.ofSeconds(5))).isTrue();
        }
        Clients.assertServesPgjdbc(port);
    }

    /** The packet a token of {@link #encryptionRequestsAreAnsweredAsPostgresAnswersThem} names. */
    private static byte[] packet(String token) {
        return switch (token) {
            case "SSL" -> WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE).toArray();
            case "GSS" -> WireBytes.create().int32(8).int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray();
            // a body behind the code: 4 bytes, and as many as a startup packet may have
            case "SSL+4" -> WireBytes.create().int32(12).int32(ProtocolCodes.SSL_REQUEST_CODE).int32(-1).toArray();
            case "GSS+9992" -> WireBytes.create().int32(10_000).int32(ProtocolCodes.GSSENC_REQUEST_CODE)
                    .bytes(new byte[9992]).toArray();
            // the longest PostgreSQL reads: 10 000 bytes behind the length word
            case "SSL+9996" -> WireBytes.create().int32(10_004).int32(ProtocolCodes.SSL_REQUEST_CODE)
                    .bytes(new byte[9996]).toArray();
            case "startup" -> WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres", "database",
                    "postgres");
            default -> throw new IllegalArgumentException(token);
        };
    }

    /**
     * Sends the packets one at a time and writes down what answers each: an encryption request's byte, the type of the
     * first message after a StartupMessage, or an ErrorResponse as "E sqlstate message" followed by "closed" or "open".
     */
    static List<String> transcript(RawWireClient c, List<byte[]> packets) throws IOException {
        c.timeout(5_000);
        List<String> seen = new ArrayList<>();
        for (byte[] p : packets) {
            c.send(p);
            int code = java.nio.ByteBuffer.wrap(p).getInt(4);
            boolean request = code == ProtocolCodes.SSL_REQUEST_CODE || code == ProtocolCodes.GSSENC_REQUEST_CODE;
            RawWireClient.Msg answer = request ? c.readRequestAnswer() : c.read();
            if (answer.type() == 'E') {
                seen.add("E " + answer.field('C') + " " + answer.field('M'));
                try {
                    seen.add(c.read().equals(RawWireClient.Msg.EOF) ? "closed" : "more after the error");
                } catch (SocketTimeoutException e) {
                    seen.add("open");
                }
                return seen;
            }
            seen.add(answer.type() == -1 ? "closed" : String.valueOf((char) answer.type()));
            if (answer.type() == -1) {
                return seen;
            }
        }
        return seen;
    }

    /** Both servers name their own protocol range ("3.0 to 3.0" in PostgreSQL 15, "3.0 to 3.2" in pgferry). */
    private static List<String> withoutProtocolRange(List<String> transcript) {
        return transcript.stream()
                .map(s -> s.replaceAll("server supports 3\\.0 to 3\\.\\d+$", "server supports 3.0 to ...")).toList();
    }

    /**
     * Each encryption request may come once, in either order, as in PostgreSQL's ProcessStartupPacket; a repeated one
     * is read as a startup packet of protocol 1234.5679 (SSL) or 1234.5680 (GSS) and refused as unsupported, 0A000.
     * A request with a body behind its code is a request all the same: PostgreSQL reads the packet by its length and
     * ignores the rest. The same bytes go to the fixture's PostgreSQL on its Unix socket, where it too answers 'N' to
     * both requests, and it answers the same.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "SSL SSL; N|E 0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2|closed",
        "GSS GSS; N|E 0A000 unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2|closed",
        "SSL GSS startup; N|N|R",
        "GSS SSL startup; N|N|R",
        "SSL GSS SSL; N|N|E 0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2|closed",
        "GSS SSL GSS; N|N|E 0A000 unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2|closed",
        "SSL+4 startup; N|R",
        "GSS+9992 SSL+4 startup; N|N|R",
        "SSL+9996 startup; N|R",
        "SSL+4 SSL; N|E 0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2|closed"})
    void encryptionRequestsAreAnsweredAsPostgresAnswersThem(String sequence, String expected) throws Exception {
        List<byte[]> packets = Arrays.stream(sequence.split(" ")).map(StartupRequestsTest::packet).toList();
        List<String> pgferry;
        try (RawWireClient c = RawWireClient.connect("127.0.0.1", port)) {
            pgferry = transcript(c, packets);
        }
        assertThat(pgferry).containsExactly(expected.split("\\|"));
        PostgresFixture pg = PostgresFixture.get();
        assumeTrue(pg.isLocal(), "the cluster runs in a container: no Unix socket to compare with");
        try (RawWireClient c = RawWireClient.connect(pg.local().socketDirectory().resolve(".s.PGSQL." + pg.port()))) {
            assertThat(withoutProtocolRange(transcript(c, packets))).as("PostgreSQL")
                    .isEqualTo(withoutProtocolRange(pgferry));
        }
        Clients.assertServesPgjdbc(port);
    }

    @Test
    void protocol30GetsAFourByteKeyFromPgferry() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres", "database", "postgres"));
            c.scramLogin("postgres", "secret");
            List<RawClient.Message> welcome = c.readUntilReady();
            assertThat(welcome).extracting(RawClient.Message::type).doesNotContain('v');
            RawClient.Message key = only(welcome, 'K');
            assertThat(key.body()).hasSize(4 + 4);
            assertThat(queryOne(c, "select pg_backend_pid()")).as("pgferry's own process id, not the backend's")
                    .isNotEqualTo(Integer.toString(key.int32(0)));
        }
    }

    @Test
    void protocol32WorksAndGetsALongerKey() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_2, "user", "postgres", "database", "postgres"));
            c.scramLogin("postgres", "secret");
            List<RawClient.Message> welcome = c.readUntilReady();
            assertThat(welcome).extracting(RawClient.Message::type).doesNotContain('v');
            RawClient.Message key = only(welcome, 'K');
            assertThat(key.body().length - 4).as("secret key bytes").isGreaterThan(4).isLessThanOrEqualTo(256);
            assertThat(queryOne(c, "select 6 * 7")).isEqualTo("42");
        }
    }

    @Test
    void protocolOptionsGetNegotiateProtocolVersionThenLoginProceeds() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres", "database", "postgres",
                    "_pq_.foo", "bar", "_pq_.compression", "zstd"));
            RawClient.Message v = c.expect('v');
            assertThat(v.wire()).containsExactly(WireBytes.message('v', WireBytes.create().int32(ProtocolCodes.PROTOCOL_3_0)
                    .int32(2).cstring("_pq_.foo").cstring("_pq_.compression").toArray()));
            c.scramLogin("postgres", "secret");
            c.readUntilReady();
            assertThat(queryOne(c, "select current_user")).isEqualTo("postgres");
        }
    }

    @Test
    void anUnknownMinorVersionIsNegotiatedDownTo32() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage((3 << 16) | 99, "user", "postgres", "database", "postgres"));
            RawClient.Message v = c.expect('v');
            assertThat(v.wire()).containsExactly(WireBytes.message('v',
                    WireBytes.create().int32(ProtocolCodes.PROTOCOL_3_2).int32(0).toArray()));
            c.scramLogin("postgres", "secret");
            List<RawClient.Message> welcome = c.readUntilReady();
            assertThat(only(welcome, 'K').body().length - 4).as("3.2 key").isGreaterThan(4);
        }
    }

    @Test
    void cancelRequestForAnUnknownKeyIsClosedQuietlyAndHarmsNoOne() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(16).int32(ProtocolCodes.CANCEL_REQUEST_CODE).int32(12345)
                    .bytes(new byte[] {1, 2, 3, 4}).toArray());
            assertThat(c.closedWithin(Duration.ofSeconds(2))).isTrue();
        }
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(44).int32(ProtocolCodes.CANCEL_REQUEST_CODE).int32(12345)
                    .bytes(new byte[32]).toArray());
            assertThat(c.closedWithin(Duration.ofSeconds(2))).isTrue();
        }
        Clients.assertServesPgjdbc(port);
    }

    @Test
    void cancelRequestWithTheIssuedKeyCancelsTheRunningQuery() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_2, "user", "postgres", "database", "postgres"));
            c.scramLogin("postgres", "secret");
            RawClient.Message key = only(c.readUntilReady(), 'K');
            c.send(WireBytes.query("select pg_sleep(20)"));
            Thread.sleep(300);
            try (RawClient cancel = RawClient.connect(port)) {
                cancel.send(WireBytes.create().int32(8 + key.body().length).int32(ProtocolCodes.CANCEL_REQUEST_CODE)
                        .bytes(key.body()).toArray());
                assertThat(cancel.closedWithin(Duration.ofSeconds(2))).isTrue();
            }
            RawClient.Message error = only(c.readUntilReady(), 'E');
            assertThat(error.fields()).containsEntry('C', "57014")
                    .containsEntry('M', "canceling statement due to user request");
        }
    }
}
