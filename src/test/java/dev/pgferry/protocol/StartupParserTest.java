package dev.pgferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Each startup-phase packet PostgreSQL's ProcessStartupPacket knows, and each way to get one wrong. */
class StartupParserTest {

    private static final int V3_0 = ProtocolCodes.PROTOCOL_3_0;
    private static final int V3_2 = ProtocolCodes.PROTOCOL_3_2;

    /** Frames {@code bytes} as the login handler does, then parses the one packet, checking buffers are left alone. */
    static StartupPacket parse(byte[] bytes) throws ProtocolException {
        ByteBuf b = Unpooled.wrappedBuffer(bytes);
        try {
            int len = WireBytes.startupFrameLength(b);
            assertThat(len).as("a complete packet").isEqualTo(bytes.length);
            ByteBuf frame = b.slice(0, len);
            StartupPacket p = StartupParser.parse(frame);
            assertThat(frame.readerIndex()).isZero();
            return p;
        } finally {
            assertThat(b.release()).isTrue();
        }
    }

    private static void assertRefused(byte[] bytes, String sqlState, String message) {
        assertThatThrownBy(() -> parse(bytes)).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.sqlState()).isEqualTo(sqlState);
            assertThat(e.getMessage()).isEqualTo(message);
            assertThat(e.answered()).as("answered with an ErrorResponse").isTrue();
        });
    }

    /** Refused as PostgreSQL refuses it with COMMERROR: {@code message} for the log, nothing for the client. */
    private static void assertClosedWithoutReply(byte[] bytes, String message) {
        assertThatThrownBy(() -> parse(bytes)).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.getMessage()).isEqualTo(message);
            assertThat(e.answered()).as("answered with an ErrorResponse").isFalse();
        });
    }

    // ---- requests ---------------------------------------------------------------------------------

    @Test
    void sslRequest() throws ProtocolException {
        assertThat(parse(WireBytes.create().int32(8).int32(80877103).toArray()))
                .isInstanceOf(StartupPacket.SslRequest.class);
    }

    @Test
    void gssEncRequest() throws ProtocolException {
        assertThat(parse(WireBytes.create().int32(8).int32(80877104).toArray()))
                .isInstanceOf(StartupPacket.GssEncRequest.class);
    }

    /** PostgreSQL reads the packet by its length and looks at the code only: a body behind it is ignored. */
    @ParameterizedTest
    @CsvSource({"80877103, 12", "80877103, 10004", "80877104, 9", "80877104, 10004"})
    void sslAndGssRequestsWithABodyAreRequestsAllTheSame(int code, int length) throws ProtocolException {
        byte[] bytes = WireBytes.create().int32(length).int32(code).bytes(new byte[length - 8]).toArray();
        assertThat(parse(bytes)).isInstanceOf(code == ProtocolCodes.SSL_REQUEST_CODE ? StartupPacket.SslRequest.class
                : StartupPacket.GssEncRequest.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {80877103, 80877104})
    void sslAndGssRequestsLongerThanAStartupPacketMayBeAreRefused(int code) {
        assertThatThrownBy(() -> WireBytes.startupFrameLength(Unpooled.wrappedBuffer(WireBytes.create().int32(10_005)
                .int32(code).toArray()))).isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("invalid length of startup packet");
                    assertThat(e.answered()).as("PostgreSQL's COMMERROR: logged, no reply").isFalse();
                });
    }

    @Test
    void cancelRequestOfProtocol30CarriesAFourByteKey() throws ProtocolException {
        byte[] bytes = WireBytes.create().int32(16).int32(80877102).int32(4242).bytes(new byte[] {1, 2, 3, 4}).toArray();
        StartupPacket.CancelRequest c = (StartupPacket.CancelRequest) parse(bytes);
        assertThat(c.processId()).isEqualTo(4242);
        assertThat(c.secretKey()).containsExactly(1, 2, 3, 4);
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 32, 256})
    void cancelRequestOfProtocol32CarriesALongerKey(int keyLength) throws ProtocolException {
        byte[] key = new byte[keyLength];
        for (int i = 0; i < keyLength; i++) {
            key[i] = (byte) (i * 7 + 1);
        }
        byte[] bytes = WireBytes.create().int32(12 + keyLength).int32(80877102).int32(-7).bytes(key).toArray();
        StartupPacket.CancelRequest c = (StartupPacket.CancelRequest) parse(bytes);
        assertThat(c.processId()).isEqualTo(-7);
        assertThat(c.secretKey()).containsExactly(key);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 257, 1000})
    void cancelRequestWithAKeyShorterThanFourOrLongerThan256IsRefused(int keyLength) {
        byte[] bytes = WireBytes.create().int32(12 + keyLength).int32(80877102).int32(1).bytes(new byte[keyLength])
                .toArray();
        assertClosedWithoutReply(bytes, "invalid length of query cancel key");
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 11})
    void cancelRequestWithoutAProcessIdIsRefused(int length) {
        assertClosedWithoutReply(WireBytes.create().int32(length).int32(80877102).bytes(new byte[length - 8]).toArray(),
                "invalid length of query cancel packet");
    }

    // ---- StartupMessage --------------------------------------------------------------------------

    @Test
    void protocol30KeepsParametersInTheClientsOrder() throws ProtocolException {
        StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) parse(WireBytes.startupMessage(V3_0,
                "user", "alice", "database", "shop", "application_name", "app", "DateStyle", "ISO"));
        assertThat(m.majorVersion()).isEqualTo(3);
        assertThat(m.minorVersion()).isZero();
        assertThat(m.params()).containsExactly(Map.entry("user", "alice"), Map.entry("database", "shop"),
                Map.entry("application_name", "app"), Map.entry("DateStyle", "ISO"));
        assertThat(m.user()).isEqualTo("alice");
        assertThat(m.database()).isEqualTo("shop");
        assertThat(m.protocolOptions()).isEmpty();
    }

    @Test
    void protocol32IsMinorVersionTwo() throws ProtocolException {
        StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) parse(
                WireBytes.startupMessage(V3_2, "user", "bob"));
        assertThat(m.majorVersion()).isEqualTo(3);
        assertThat(m.minorVersion()).isEqualTo(2);
    }

    @Test
    void anUnknownMinorVersionIsParsedForTheSessionToNegotiate() throws ProtocolException {
        StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) parse(
                WireBytes.startupMessage((3 << 16) | 99, "user", "bob"));
        assertThat(m.minorVersion()).isEqualTo(99);
    }

    @ParameterizedTest
    @CsvSource({"''", "database,''"})
    void databaseDefaultsToTheUserName(String dbParam) throws ProtocolException {
        byte[] bytes = dbParam.isEmpty() ? WireBytes.startupMessage(V3_0, "user", "carol")
                : WireBytes.startupMessage(V3_0, "user", "carol", "database", "");
        assertThat(((StartupPacket.StartupMessage) parse(bytes)).database()).isEqualTo("carol");
    }

    @Test
    void utf8NamesAndValuesSurvive() throws ProtocolException {
        StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) parse(
                WireBytes.startupMessage(V3_0, "user", "zoë", "application_name", "日本"));
        assertThat(m.user()).isEqualTo("zoë");
        assertThat(m.params()).containsEntry("application_name", "日本");
    }

    @Test
    void protocolOptionsAreSplitOffInOrder() throws ProtocolException {
        StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) parse(WireBytes.startupMessage(V3_0,
                "_pq_.foo", "1", "user", "dave", "_pq_.compression", "zstd", "application_name", "x"));
        assertThat(m.protocolOptions()).containsExactly("_pq_.foo", "_pq_.compression");
        assertThat(m.params()).containsOnlyKeys("user", "application_name");
    }

    @ParameterizedTest
    @CsvSource({
        "2, 0, unsupported frontend protocol 2.0: server supports 3.0 to 3.2",
        "1, 0, unsupported frontend protocol 1.0: server supports 3.0 to 3.2",
        "4, 0, unsupported frontend protocol 4.0: server supports 3.0 to 3.2",
        "0, 0, unsupported frontend protocol 0.0: server supports 3.0 to 3.2",
        "1234, 9999, unsupported frontend protocol 1234.9999: server supports 3.0 to 3.2",
        "1234, 5681, unsupported frontend protocol 1234.5681: server supports 3.0 to 3.2",
        "65535, 65535, unsupported frontend protocol 65535.65535: server supports 3.0 to 3.2",
    })
    void unknownMajorVersionOrRequestCodeIsNotSupported(int major, int minor, String message) {
        assertRefused(WireBytes.startupMessage((major << 16) | minor, "user", "x"), "0A000", message);
    }

    @Test
    void missingFinalTerminatorIsRefused() {
        byte[] body = WireBytes.create().int32(V3_0).cstring("user").cstring("x").toArray();
        assertRefused(WireBytes.startupPacket(body), "08P01",
                "invalid startup packet layout: expected terminator as last byte");
    }

    @Test
    void bareCodeWithoutEvenATerminatorIsRefused() {
        assertRefused(WireBytes.create().int32(8).int32(V3_0).toArray(), "08P01",
                "invalid startup packet layout: expected terminator as last byte");
    }

    @Test
    void nameWithoutValueIsRefused() {
        byte[] body = WireBytes.create().int32(V3_0).cstring("user").cstring("x").cstring("application_name").byte1(0)
                .toArray();
        // "application_name\0\0": the terminator is taken as the value, so the list is not terminated
        assertRefused(WireBytes.startupPacket(body), "08P01",
                "invalid startup packet layout: expected terminator as last byte");
    }

    @Test
    void nameWithoutValueOrTerminatorIsRefused() {
        byte[] body = WireBytes.create().int32(V3_0).cstring("user").cstring("x").cstring("application_name").toArray();
        assertRefused(WireBytes.startupPacket(body), "08P01",
                "invalid startup packet layout: expected terminator as last byte");
    }

    @Test
    void unterminatedValueIsRefused() {
        byte[] body = WireBytes.create().int32(V3_0).cstring("user").bytes("x".getBytes()).toArray();
        assertRefused(WireBytes.startupPacket(body), "08P01",
                "invalid startup packet layout: expected terminator as last byte");
    }

    @Test
    void bytesAfterTheTerminatorAreRefused() {
        byte[] body = WireBytes.create().int32(V3_0).cstring("user").cstring("x").byte1(0).byte1(0).toArray();
        assertRefused(WireBytes.startupPacket(body), "08P01",
                "invalid startup packet layout: expected terminator as last byte");
    }

    @Test
    void missingUserIsInvalidAuthorization() {
        assertRefused(WireBytes.startupMessage(V3_0, "database", "postgres"), "28000",
                "no PostgreSQL user name specified in startup packet");
        assertRefused(WireBytes.startupMessage(V3_0), "28000", "no PostgreSQL user name specified in startup packet");
    }

    @Test
    void emptyUserIsInvalidAuthorization() {
        assertRefused(WireBytes.startupMessage(V3_0, "user", "", "database", "postgres"), "28000",
                "no PostgreSQL user name specified in startup packet");
    }

    @Test
    void userGivenOnlyAsAProtocolOptionIsStillMissing() {
        assertRefused(WireBytes.startupMessage(V3_0, "_pq_.user", "x"), "28000",
                "no PostgreSQL user name specified in startup packet");
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "on", "yes", "1", "database", "TRUE"})
    void replicationConnectionsAreRefused(String value) {
        assertRefused(WireBytes.startupMessage(V3_0, "user", "x", "replication", value), "0A000",
                "replication connections are not supported by pgferry");
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "off", "no", "0", "FALSE", "Off"})
    void replicationOffIsAnOrdinaryConnection(String value) throws ProtocolException {
        StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) parse(
                WireBytes.startupMessage(V3_0, "user", "x", "replication", value));
        assertThat(m.user()).isEqualTo("x");
    }

    @Test
    void aRepeatedParameterKeepsTheLastValue() throws ProtocolException {
        StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) parse(
                WireBytes.startupMessage(V3_0, "user", "a", "user", "b"));
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("user", "b");
        assertThat(m.params()).isEqualTo(expected);
    }

    @Test
    void parsesAFrameThatIsASliceOfALargerBuffer() throws ProtocolException {
        byte[] packet = WireBytes.startupMessage(V3_0, "user", "eve");
        ByteBuf b = Unpooled.buffer().writeBytes(new byte[] {9, 9, 9}).writeBytes(packet).writeBytes(new byte[] {7, 7});
        try {
            StartupPacket.StartupMessage m = (StartupPacket.StartupMessage) StartupParser.parse(b.slice(3, packet.length));
            assertThat(m.params()).containsExactly(Map.entry("user", "eve"));
            assertThat(m.protocolOptions()).isEqualTo(List.of());
        } finally {
            b.release();
        }
    }
}
