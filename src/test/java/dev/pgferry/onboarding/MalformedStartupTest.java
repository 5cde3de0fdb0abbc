package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.auth.ScramClient;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.PostgresResource;
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
 * Every malformed startup or first message, sent on a raw socket: pgferry answers one exact FATAL ErrorResponse,
 * closes the socket, and keeps serving everyone else.
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
        String badLength = "invalid length of startup packet";
        String layout = "invalid startup packet layout: expected terminator as last byte";
        return Stream.of(
                Arguments.of("length 4", WireBytes.create().int32(4).toArray(), "08P01", badLength),
                Arguments.of("length 7", WireBytes.create().int32(7).bytes(new byte[] {0, 3, 0}).toArray(), "08P01",
                        badLength),
                Arguments.of("length 0", WireBytes.create().int32(0).toArray(), "08P01", badLength),
                Arguments.of("negative length", WireBytes.create().int32(-8).toArray(), "08P01", badLength),
                Arguments.of("length 10005 declared", WireBytes.create().int32(10_005).int32(V3_0).toArray(), "08P01",
                        badLength),
                Arguments.of("1 GB declared", WireBytes.create().int32(1 << 30).toArray(), "08P01", badLength),
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
                Arguments.of("cancel request of 8 bytes", WireBytes.create().int32(8)
                        .int32(ProtocolCodes.CANCEL_REQUEST_CODE).toArray(), "08P01",
                        "invalid length of cancel request packet"),
                // PostgreSQL reads a request it no longer takes as a startup packet of that protocol version
                Arguments.of("second SSLRequest", WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE)
                        .toArray(), "0A000", "unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2"),
                Arguments.of("second GSSENCRequest", WireBytes.create().int32(8)
                        .int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray(), "0A000",
                        "unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2"),
                // an encryption request's body is ignored (StartupRequestsTest), but not past the startup limit
                Arguments.of("SSLRequest declaring 10005 bytes", WireBytes.create().int32(10_005)
                        .int32(ProtocolCodes.SSL_REQUEST_CODE).toArray(), "08P01", badLength),
                Arguments.of("GSSENCRequest declaring 10005 bytes", WireBytes.create().int32(10_005)
                        .int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray(), "08P01", badLength),
                // keys of up to 256 bytes (protocol 3.2); PostgreSQL 15 closes without a word on any bad length
                Arguments.of("cancel request with a 257-byte key", WireBytes.create().int32(12 + 257)
                        .int32(ProtocolCodes.CANCEL_REQUEST_CODE).int32(12345).bytes(new byte[257]).toArray(),
                        "08P01", "invalid length of cancel request packet"));
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
    void anOversizedStartupLengthIsRefusedBeforeTheBodyArrives() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(10_005).toArray()); // PostgreSQL's limit: 10 000 bytes behind the length word
            assertRefused(c, "08P01", "invalid length of startup packet");
        }
    }

    // ---- during authentication ------------------------------------------------------------------

    @Test
    void aNonPasswordMessageDuringAuthenticationIsRefused() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(V3_0, "user", "scram_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).isEqualTo(10);
            c.send(WireBytes.query("select 1"));
            assertRefused(c, "08P01", "expected password response, got message type 81");
        }
    }

    @Test
    void aHugePasswordMessageIsRefusedFromItsHeader() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(V3_0, "user", "scram_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).isEqualTo(10);
            c.send(WireBytes.messageHeader('p', 1 << 30));
            assertRefused(c, "08P01", "invalid message length 1073741824 for message type \"p\" (expected: 4 to 10000)");
        }
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
