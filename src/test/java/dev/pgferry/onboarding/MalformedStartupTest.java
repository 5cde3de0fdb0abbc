package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.auth.ScramClient;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.NodePostgres;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.ServerReply;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every malformed startup or first message, sent on a raw socket: pgferry answers one exact FATAL ErrorResponse and
 * closes the socket, or, where PostgreSQL 15 only logs the violation (COMMERROR), closes without a word; either way it
 * keeps serving everyone else. The fixture's PostgreSQL gets the same bytes and is the judge of which answer is right.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class MalformedStartupTest {

    private static final int V3_0 = ProtocolCodes.PROTOCOL_3_0;

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ConfigProperty(name = "pgferry.max-message-length")
    int maxMessageLength;

    /** One FATAL ErrorResponse, exactly these fields and bytes, then the socket closed (see RawClient). */
    private void assertRefused(RawClient client, String sqlState, String message) throws Exception {
        client.assertRefused(sqlState, message);
    }

    @AfterEach
    void stillServesOthers() throws Exception {
        Clients.assertServesPgjdbc(port);
    }

    static Stream<Arguments> malformedStartups() {
        String layout = "invalid startup packet layout: expected terminator as last byte";
        return Stream.of(
                Arguments.of("missing final NUL", WireBytes.startupPacket(WireBytes.create().int32(V3_0)
                        .cstring("user").cstring("postgres").toArray()), "08P01", layout),
                Arguments.of("parameter without value", WireBytes.startupPacket(WireBytes.create().int32(V3_0)
                        .cstring("user").cstring("postgres").cstring("application_name").byte1(0).toArray()),
                        "08P01", layout),
                Arguments.of("protocol 2.0", WireBytes.startupMessage(2 << 16, "user", "postgres"), "0A000",
                        "unsupported frontend protocol 2.0: server supports 3.0 to 3.2"),
                Arguments.of("protocol 4.0", WireBytes.startupMessage(4 << 16, "user", "postgres"), "0A000",
                        "unsupported frontend protocol 4.0: server supports 3.0 to 3.2"),
                Arguments.of("request code 1234.9999", WireBytes.create().int32(8).int32((1234 << 16) | 9999).toArray(),
                        "0A000", "unsupported frontend protocol 1234.9999: server supports 3.0 to 3.2"),
                Arguments.of("missing user", WireBytes.startupMessage(V3_0, "database", "postgres"), "28000",
                        "no PostgreSQL user name specified in startup packet"),
                Arguments.of("replication", WireBytes.startupMessage(V3_0, "user", "postgres", "replication", "true"),
                        "0A000", "replication connections are not supported by pgferry"),
                Arguments.of("options not -c", WireBytes.startupMessage(V3_0, "user", "postgres", "options", "-x 1"),
                        "08P01", "invalid command-line argument for server process: -x"),
                // PostgreSQL reads a request it no longer takes as a startup packet of that protocol version
                Arguments.of("second SSLRequest", WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE)
                        .toArray(), "0A000", "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2"),
                Arguments.of("second GSSENCRequest", WireBytes.create().int32(8)
                        .int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray(), "0A000",
                        "unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2"));
    }

    // ---- what PostgreSQL answers: the fixture's server is the judge --------------------------------------------

    /** SSLRequest, 8 bytes: answered 'N' by pgferry here (no client TLS) and by PostgreSQL on its Unix socket. */
    private static final byte[] SSL_REQUEST = WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE).toArray();

    private static boolean startsWithEncryptionRequest(byte[] write) {
        int code = write.length < 8 ? 0 : java.nio.ByteBuffer.wrap(write).getInt(4);
        return code == ProtocolCodes.SSL_REQUEST_CODE || code == ProtocolCodes.GSSENC_REQUEST_CODE;
    }

    /**
     * Sends each of {@code writes} in turn on {@code c} and writes down the answers: to every write but the last, the
     * one byte that answers an encryption request (also to the last when it is the first and starts with one); after
     * the last, everything until the server closes ({@link ServerReply}).
     */
    private static String reply(RawWireClient c, byte[]... writes) throws Exception {
        c.timeout(2_000);
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < writes.length; i++) {
            c.send(writes[i]);
            if (i < writes.length - 1 || (i == 0 && startsWithEncryptionRequest(writes[i]))) {
                int answer = c.readByte();
                if (answer == -1) {
                    return seen.append("closed").toString();
                }
                seen.append((char) answer).append(", ");
            }
        }
        return seen.append(c.reply()).toString();
    }

    private String pgferryReply(byte[]... writes) throws Exception {
        try (RawWireClient c = RawWireClient.connect("127.0.0.1", port)) {
            return reply(c, writes);
        }
    }

    /**
     * What the fixture's PostgreSQL answers: over TCP, or, when the first packet is an SSLRequest, on its Unix socket,
     * where it answers 'N' whether or not another test class of this JVM turned its ssl on.
     */
    private static String postgresReply(byte[]... writes) throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        if (!startsWithEncryptionRequest(writes[0])) {
            try (RawWireClient c = RawWireClient.connect(pg.host(), pg.port())) {
                return reply(c, writes);
            }
        }
        assumeTrue(pg.isLocal(), "the cluster runs in a container: no Unix socket to compare with");
        try (RawWireClient c = RawWireClient.connect(pg.local().socketDirectory().resolve(".s.PGSQL." + pg.port()))) {
            return reply(c, writes);
        }
    }

    /**
     * Packets PostgreSQL 15 cannot even frame, and cancel requests of a length it does not take: ProcessStartupPacket
     * logs them as COMMERROR ("invalid length of startup packet") and closes without a word. node-postgres's Terminate
     * sent before its startup packet (its {@code end()} right after {@code connect()}) is the one a real client sends.
     */
    static Stream<Arguments> startupsPostgresClosesWithoutAWord() {
        byte[] terminate = WireBytes.message('X', new byte[0]);
        byte[] oversized = WireBytes.create().int32(10_005).int32(V3_0).toArray();
        return Stream.of(
                Arguments.of("length 4", new byte[][] {WireBytes.create().int32(4).toArray()}),
                Arguments.of("length 7", new byte[][] {WireBytes.create().int32(7).bytes(new byte[] {0, 3, 0}).toArray()}),
                Arguments.of("length 0", new byte[][] {WireBytes.create().int32(0).toArray()}),
                Arguments.of("negative length", new byte[][] {WireBytes.create().int32(-8).toArray()}),
                Arguments.of("length 10005 declared", new byte[][] {oversized}),
                Arguments.of("1 GB declared", new byte[][] {WireBytes.create().int32(1 << 30).int32(V3_0).toArray()}),
                Arguments.of("Terminate before the startup packet", new byte[][] {terminate}),
                Arguments.of("SSLRequest declaring 10005 bytes", new byte[][] {WireBytes.create().int32(10_005)
                        .int32(ProtocolCodes.SSL_REQUEST_CODE).toArray()}),
                Arguments.of("GSSENCRequest declaring 10005 bytes", new byte[][] {WireBytes.create().int32(10_005)
                        .int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray()}),
                Arguments.of("cancel request of 8 bytes", new byte[][] {WireBytes.create().int32(8)
                        .int32(ProtocolCodes.CANCEL_REQUEST_CODE).toArray()}),
                Arguments.of("cancel request of 12 bytes", new byte[][] {WireBytes.create().int32(12)
                        .int32(ProtocolCodes.CANCEL_REQUEST_CODE).int32(12345).toArray()}),
                Arguments.of("cancel request with a 257-byte key", new byte[][] {WireBytes.create().int32(12 + 257)
                        .int32(ProtocolCodes.CANCEL_REQUEST_CODE).int32(12345).bytes(new byte[257]).toArray()}),
                // after an SSLRequest answered 'N' PostgreSQL reads the next packet the same way
                Arguments.of("SSLRequest, then Terminate", new byte[][] {SSL_REQUEST, terminate}),
                Arguments.of("SSLRequest, then length 10005", new byte[][] {SSL_REQUEST, oversized}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("startupsPostgresClosesWithoutAWord")
    void anUnframeableStartupIsClosedWithoutAWordAsByPostgres(String name, byte[][] writes) throws Exception {
        String expected = startsWithEncryptionRequest(writes[0]) && writes.length > 1 ? "N, closed" : "closed";
        assertThat(postgresReply(writes)).as("PostgreSQL").isEqualTo(expected);
        assertThat(pgferryReply(writes)).as("pgferry").isEqualTo(expected);
    }

    /** The startups PostgreSQL refuses with a FATAL ErrorResponse (the same SQLSTATE and message from pgferry). */
    static Stream<Arguments> startupsPostgresRefusesWithAnError() {
        return Stream.of(
                Arguments.of("missing final NUL", new byte[][] {WireBytes.startupPacket(WireBytes.create().int32(V3_0)
                        .cstring("user").cstring("postgres").toArray())}),
                Arguments.of("parameter without value", new byte[][] {WireBytes.startupPacket(WireBytes.create()
                        .int32(V3_0).cstring("user").cstring("postgres").cstring("application_name").byte1(0)
                        .toArray())}),
                Arguments.of("protocol 4.0", new byte[][] {WireBytes.startupMessage(4 << 16, "user", "postgres")}),
                Arguments.of("request code 1234.9999", new byte[][] {WireBytes.create().int32(8)
                        .int32((1234 << 16) | 9999).toArray()}),
                Arguments.of("missing user", new byte[][] {WireBytes.startupMessage(V3_0, "database", "postgres")}),
                Arguments.of("second SSLRequest", new byte[][] {SSL_REQUEST, SSL_REQUEST}),
                Arguments.of("startup in the same write as the SSLRequest", new byte[][] {WireBytes.create().int32(8)
                        .int32(ProtocolCodes.SSL_REQUEST_CODE).bytes(WireBytes.startupMessage(V3_0, "user", "postgres"))
                        .toArray()}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("startupsPostgresRefusesWithAnError")
    void aMalformedStartupGetsTheErrorPostgresSends(String name, byte[][] writes) throws Exception {
        String postgres = ServerReply.withoutProtocolRange(postgresReply(writes));
        assertThat(postgres).as("PostgreSQL").matches("(N, )?E \\w{5} .+, closed");
        assertThat(ServerReply.withoutProtocolRange(pgferryReply(writes))).as("pgferry").isEqualTo(postgres);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedStartups")
    void malformedStartupGetsOneFatalErrorAndTheSocketIsClosed(String name, byte[] bytes, String sqlState,
            String message) throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            if (name.startsWith("second ")) {
                c.send(bytes);
                assertThat(c.readByte()).isEqualTo('N');
            }
            c.send(bytes);
            assertRefused(c, sqlState, message);
        }
    }

    @Test
    void anOversizedStartupLengthIsClosedBeforeTheBodyArrives() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(10_005).toArray()); // PostgreSQL's limit: 10 000 bytes behind the length word
            assertThat(c.closedWithin(java.time.Duration.ofSeconds(2))).as("closed, nothing sent").isTrue();
        }
    }

    /**
     * node-postgres's {@code client.end()} called before {@code client.connect()} has finished sends Terminate before
     * the StartupMessage. PostgreSQL closes without a word and the application sees no error: its end() resolves,
     * no 'error' event comes. Through pgferry the same. (Its connect() promise then never settles, with PostgreSQL as
     * with pgferry.)
     */
    @Test
    void nodePostgresEndingBeforeItsStartupPacketSeesNoError() throws Exception {
        String out = NodePostgres.endBeforeConnected(PostgresFixture.get().port(), port, false);
        assertThat(out).as("node output").contains("postgres: ended\n").contains("pgferry: ended\n");
    }

    // ---- during authentication ------------------------------------------------------------------

    /**
     * Logs in as scram_u up to AuthenticationSASL on {@code c}, sends {@code message} and writes down what answers it
     * ({@link ServerReply}).
     */
    private static String replyDuringSasl(RawWireClient c, byte[] message) throws Exception {
        c.timeout(2_000);
        c.send(WireBytes.startupMessage(V3_0, "user", "scram_u", "database", "postgres"));
        RawWireClient.Msg sasl = c.read();
        assertThat(sasl.type()).as("%s", sasl).isEqualTo('R');
        c.send(message);
        return c.reply();
    }

    /** The answer pgferry and the fixture's PostgreSQL give {@code message} in place of a SASLInitialResponse. */
    private void assertAnsweredDuringSaslAsByPostgres(byte[] message, String expected) throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        try (RawWireClient c = RawWireClient.connect(pg.host(), pg.port())) {
            assertThat(replyDuringSasl(c, message)).as("PostgreSQL").isEqualTo(expected);
        }
        try (RawWireClient c = RawWireClient.connect("127.0.0.1", port)) {
            assertThat(replyDuringSasl(c, message)).as("pgferry").isEqualTo(expected);
        }
    }

    /** CheckSASLAuth reads the type byte first: anything but 'p' is named, whatever length follows. */
    @Test
    void aNonPasswordMessageDuringAuthenticationIsRefused() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(V3_0, "user", "scram_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).isEqualTo(10);
            c.send(WireBytes.query("select 1"));
            assertRefused(c, "08P01", "expected SASL response, got message type 81");
        }
        String expected = "E 08P01 expected SASL response, got message type 81, closed";
        assertAnsweredDuringSaslAsByPostgres(WireBytes.query("select 1"), expected);
        assertAnsweredDuringSaslAsByPostgres(WireBytes.messageHeader('Q', 1 << 30), expected);
    }

    /**
     * A 'p' whose length pq_getmessage refuses (over PostgreSQL 15's 1 024 bytes for SASL, or under 4): it logs
     * "invalid message length" and CheckSASLAuth then fails the authentication, 28P01, without reading the body.
     */
    @Test
    void aHugePasswordMessageIsRefusedFromItsHeader() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(V3_0, "user", "scram_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).isEqualTo(10);
            c.send(WireBytes.messageHeader('p', 1 << 30));
            assertRefused(c, "28P01", "password authentication failed for user \"scram_u\"");
        }
        String expected = "E 28P01 password authentication failed for user \"scram_u\", closed";
        assertAnsweredDuringSaslAsByPostgres(WireBytes.messageHeader('p', 1 << 30), expected);
        assertAnsweredDuringSaslAsByPostgres(WireBytes.messageHeader('p', 3), expected);
        assertAnsweredDuringSaslAsByPostgres(WireBytes.message('p', new byte[1025 - 4]), expected);
    }

    /** A SASLInitialResponse: mechanism, then the length of the data (as given), then the data. */
    private static byte[] saslInitialResponse(String mechanism, int declaredLength, byte[] data) {
        return WireBytes.message('p', WireBytes.create().cstring(mechanism).int32(declaredLength).bytes(data).toArray());
    }

    /**
     * Malformed answers to AuthenticationSASL, each refused with what PostgreSQL 15 sends for it (auth-sasl.c,
     * auth-scram.c, pqformat.c; checked against a PostgreSQL 15 server).
     */
    static Stream<Arguments> malformedSaslMessages() {
        byte[] first = "n,,n=,r=abcdefghijklmnop".getBytes(StandardCharsets.US_ASCII);
        String insufficient = "insufficient data left in message";
        String invalidMechanism = "client selected an invalid SASL authentication mechanism";
        return Stream.of(
                Arguments.of("unknown mechanism", saslInitialResponse("SCRAM-SHA-1", first.length, first),
                        invalidMechanism),
                Arguments.of("SCRAM-SHA-256-PLUS without TLS", saslInitialResponse("SCRAM-SHA-256-PLUS",
                        first.length, first), invalidMechanism),
                Arguments.of("mechanism without terminator", WireBytes.message('p',
                        "SCRAM-SHA-256".getBytes(StandardCharsets.US_ASCII)), "invalid string in message"),
                Arguments.of("no length field", WireBytes.message('p', WireBytes.create().cstring("SCRAM-SHA-256")
                        .toArray()), insufficient),
                Arguments.of("length past the end", saslInitialResponse("SCRAM-SHA-256", first.length + 10, first),
                        insufficient),
                Arguments.of("negative length", saslInitialResponse("SCRAM-SHA-256", -2, first), insufficient),
                Arguments.of("length short of the end", saslInitialResponse("SCRAM-SHA-256", first.length - 3, first),
                        "invalid message format"),
                // out of order: the client-final-message where the SASLInitialResponse belongs
                Arguments.of("SASLResponse before SASLInitialResponse", WireBytes.message('p',
                        ("c=biws,r=abcdefghijklmnop,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
                                .getBytes(StandardCharsets.US_ASCII)), "invalid string in message"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedSaslMessages")
    void aMalformedSaslInitialResponseGetsOneFatalErrorAndTheSocketIsClosed(String name, byte[] message,
            String error) throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(V3_0, "user", "scram_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).as("AuthenticationSASL").isEqualTo(10);
            c.send(message);
            assertRefused(c, "08P01", error);
        }
    }

    /** Out of order the other way: the SASLInitialResponse again where the SASLResponse belongs. */
    @Test
    void aSecondSaslInitialResponseIsAMalformedScramMessageWithPostgresDetail() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(V3_0, "user", "scram_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).as("AuthenticationSASL").isEqualTo(10);
            byte[] first = ScramClient.withPassword("scram_u", "scram_pw").clientFirstMessage();
            c.send(saslInitialResponse("SCRAM-SHA-256", first.length, first));
            assertThat(c.expect('R').int32(0)).as("AuthenticationSASLContinue").isEqualTo(11);
            c.send(saslInitialResponse("SCRAM-SHA-256", first.length, first));
            c.assertRefused("08P01", "malformed SCRAM message", "Message length does not match input length.");
        }
    }

    // ---- after login ------------------------------------------------------------------------------

    private RawClient loggedIn() throws Exception {
        RawClient c = RawClient.connect(port);
        c.send(WireBytes.startupMessage(V3_0, "user", "postgres", "database", "postgres"));
        c.scramLogin("postgres", "secret");
        c.readUntilReady();
        return c;
    }

    @Test
    void aTypedMessageWithLength3AfterLoginIsRefused() throws Exception {
        try (RawClient c = loggedIn()) {
            c.send(WireBytes.messageHeader('Q', 3));
            assertRefused(c, "08P01", "invalid message length 3 for message type \"Q\" (expected: 4 to "
                    + maxMessageLength + ")");
        }
    }

    @Test
    void aTypedMessageOf1GbAfterLoginIsRefusedFromItsHeader() throws Exception {
        try (RawClient c = loggedIn()) {
            c.send(WireBytes.messageHeader('Q', 1 << 30));
            assertRefused(c, "08P01", "invalid message length 1073741824 for message type \"Q\" (expected: 4 to "
                    + maxMessageLength + ")");
        }
    }

    @Test
    void anUnknownMessageTypeAfterLoginIsRefused() throws Exception {
        try (RawClient c = loggedIn()) {
            c.send(WireBytes.message('y', new byte[0]));
            assertRefused(c, "08P01", "invalid frontend message type 121");
        }
    }

    @Test
    void anUnknownMessageTypeAfterAQueryIsRefused() throws Exception {
        try (RawClient c = loggedIn()) {
            c.send(WireBytes.query("select 1"));
            assertThat(c.readUntilReady()).extracting(RawClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
            c.send(WireBytes.message('y', new byte[] {1, 2, 3}));
            assertRefused(c, "08P01", "invalid frontend message type 121");
        }
    }
}
