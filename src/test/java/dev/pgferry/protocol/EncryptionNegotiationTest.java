package dev.pgferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The order of SSLRequest and GSSENCRequest, as PostgreSQL's {@code ProcessStartupPacket} takes them
 * ({@code ssl_done}, {@code gss_done}): each once, in either order; after an accepted one, neither.
 */
class EncryptionNegotiationTest {

    private static final byte[] SSL = WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE).toArray();
    private static final byte[] GSS = WireBytes.create().int32(8).int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray();

    /**
     * Plays {@code requests} ("SSL", "GSS", "SSL+" for one answered 'S', "TLS" for a direct TLS handshake) and returns
     * what the parser made of each: "SSL", "GSS", or "0A000 message" for the refused one, which ends the play.
     */
    private static List<String> play(String requests) {
        EncryptionNegotiation n = new EncryptionNegotiation();
        List<String> seen = new ArrayList<>();
        for (String r : requests.split(" ")) {
            if (r.equals("TLS")) {
                n.directTls();
                seen.add("TLS");
                continue;
            }
            ByteBuf frame = Unpooled.wrappedBuffer(r.startsWith("SSL") ? SSL : GSS);
            try {
                StartupPacket p = StartupParser.parse(frame, n);
                if (p instanceof StartupPacket.SslRequest) {
                    n.sslAnswered(r.endsWith("+"));
                    seen.add("SSL");
                } else {
                    assertThat(p).isInstanceOf(StartupPacket.GssEncRequest.class);
                    n.gssEncAnswered(false);
                    seen.add("GSS");
                }
            } catch (ProtocolException e) {
                seen.add(e.sqlState() + " " + e.getMessage());
                return seen;
            } finally {
                frame.release();
            }
        }
        return seen;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "SSL; SSL",
        "GSS; GSS",
        "SSL GSS; SSL|GSS",
        "GSS SSL; GSS|SSL",
        "GSS SSL+; GSS|SSL",
        "SSL SSL; SSL|0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2",
        "GSS GSS; GSS|0A000 unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2",
        "SSL GSS SSL; SSL|GSS|0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2",
        "GSS SSL GSS; GSS|SSL|0A000 unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2",
        "SSL+ GSS; SSL|0A000 unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2",
        "SSL+ SSL; SSL|0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2",
        "TLS GSS; TLS|0A000 unsupported frontend protocol 1234.5680: server supports 3.0 to 3.2",
        "TLS SSL; TLS|0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.2"})
    void eachRequestOnceInEitherOrderAndNoneAfterEncryptionBegan(String requests, String expected) {
        assertThat(play(requests)).containsExactly(expected.split("\\|"));
    }

    /** A request no longer open is a protocol version like any other: its length is not held to 8. */
    @ParameterizedTest
    @CsvSource({"80877103, 1234.5679", "80877104, 1234.5680"})
    void aClosedRequestWithMoreBytesIsStillAnUnsupportedVersion(int code, String version) {
        EncryptionNegotiation n = new EncryptionNegotiation();
        n.directTls();
        ByteBuf frame = Unpooled.wrappedBuffer(WireBytes.startupMessage(code, "user", "postgres"));
        try {
            assertThatThrownBy(() -> StartupParser.parse(frame, n)).isInstanceOfSatisfying(ProtocolException.class,
                    e -> {
                        assertThat(e.sqlState()).isEqualTo(SqlState.FEATURE_NOT_SUPPORTED);
                        assertThat(e.getMessage()).isEqualTo(
                                "unsupported frontend protocol " + version + ": server supports 3.0 to 3.2");
                    });
        } finally {
            frame.release();
        }
    }
}
