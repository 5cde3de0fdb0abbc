package dev.pgferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The two frame shapes: limits refused before buffering, "need more" for every truncation, no index moved. */
class FramingTest {

    private static final int MAX = 1000;

    private static ByteBuf buf(byte[] bytes) {
        return Unpooled.buffer(bytes.length).writeBytes(bytes); // not wrappedBuffer: empty would be a shared singleton
    }

    private static int startupLength(byte[] bytes) throws ProtocolException {
        ByteBuf b = buf(bytes);
        try {
            int len = WireBytes.startupFrameLength(b);
            assertThat(b.readerIndex()).isZero();
            return len;
        } finally {
            assertThat(b.release()).isTrue();
        }
    }

    private static int messageLength(byte[] bytes, int max) throws ProtocolException {
        ByteBuf b = buf(bytes);
        try {
            int len = WireBytes.messageFrameLength(b, max);
            assertThat(b.readerIndex()).isZero();
            return len;
        } finally {
            assertThat(b.release()).isTrue();
        }
    }

    // ---- startup packets ---------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 1, 3, 4, 7, 10_005, 10_008, 1 << 30, Integer.MAX_VALUE})
    void startupLengthOutsideEightTo10004IsRefusedFromTheLengthFieldAlone(int declared) {
        byte[] onlyTheLength = WireBytes.create().int32(declared).toArray();
        assertThatThrownBy(() -> startupLength(onlyTheLength))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("invalid length of startup packet");
                    assertThat(e.answered()).as("PostgreSQL's COMMERROR: logged, no reply").isFalse();
                });
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 9, 100, 10_000, 10_004}) // PostgreSQL: at most 10 000 bytes behind the length word
    void startupLengthWithinLimitsIsTheWholePacketOnceComplete(int declared) throws ProtocolException {
        byte[] packet = new byte[declared];
        System.arraycopy(WireBytes.create().int32(declared).toArray(), 0, packet, 0, 4);
        assertThat(startupLength(packet)).isEqualTo(declared);
        for (int n = 0; n < declared; n++) {
            assertThat(startupLength(Arrays.copyOf(packet, n))).as("prefix of %d bytes", n).isEqualTo(FrameDecoder.NEED_MORE);
        }
    }

    @Test
    void startupLengthIgnoresBytesOfTheNextPacket() throws ProtocolException {
        byte[] two = WireBytes.create().bytes(WireBytes.startupPacket(new byte[] {0, 0, 0, 1}))
                .bytes(new byte[20]).toArray();
        assertThat(startupLength(two)).isEqualTo(8);
    }

    @Test
    void startupLengthIsReadAtTheReaderIndex() throws ProtocolException {
        ByteBuf b = Unpooled.buffer();
        b.writeBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}).writeInt(8).writeInt(ProtocolCodes.SSL_REQUEST_CODE);
        b.skipBytes(3);
        try {
            assertThat(WireBytes.startupFrameLength(b)).isEqualTo(8);
            assertThat(b.readerIndex()).isEqualTo(3);
        } finally {
            b.release();
        }
    }

    // ---- typed messages ----------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -4, -1, 0, 1, 2, 3})
    void typedLengthBelowFourIsRefused(int declared) {
        assertThatThrownBy(() -> messageLength(WireBytes.messageHeader('Q', declared), MAX))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08P01");
                    assertThat(e.getMessage()).isEqualTo(
                            "invalid message length " + declared + " for message type \"Q\" (expected: 4 to 1000)");
                });
    }

    @ParameterizedTest
    @ValueSource(ints = {MAX + 1, 1 << 30, Integer.MAX_VALUE})
    void typedLengthAboveTheMaximumIsRefusedFromTheHeaderAlone(int declared) {
        assertThatThrownBy(() -> messageLength(WireBytes.messageHeader('P', declared), MAX))
                .isInstanceOfSatisfying(ProtocolException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08P01");
                    assertThat(e.getMessage()).isEqualTo(
                            "invalid message length " + declared + " for message type \"P\" (expected: 4 to 1000)");
                });
    }

    @Test
    void unprintableTypeIsNamedInHex() {
        assertThatThrownBy(() -> messageLength(WireBytes.messageHeader((char) 0x01, 2), MAX))
                .hasMessage("invalid message length 2 for message type \"\\x01\" (expected: 4 to 1000)");
        assertThatThrownBy(() -> messageLength(WireBytes.messageHeader((char) 0xff, 2), MAX))
                .hasMessage("invalid message length 2 for message type \"\\xff\" (expected: 4 to 1000)");
    }

    @Test
    void typedLengthAtTheLimitsIsAccepted() throws ProtocolException {
        assertThat(messageLength(WireBytes.message('S', new byte[0]), MAX)).isEqualTo(5);
        byte[] atMax = WireBytes.message('d', new byte[MAX - 4]);
        assertThat(messageLength(atMax, MAX)).isEqualTo(MAX + 1);
    }

    @Test
    void everyTruncationOfATypedMessageNeedsMore() throws ProtocolException {
        byte[] query = WireBytes.query("select 1");
        assertThat(messageLength(query, MAX)).isEqualTo(query.length);
        for (int n = 0; n < query.length; n++) {
            assertThat(messageLength(Arrays.copyOf(query, n), MAX)).as("prefix of %d bytes", n)
                    .isEqualTo(FrameDecoder.NEED_MORE);
        }
    }

    @Test
    void hugeDeclaredLengthUnderAHugeMaximumNeedsMoreRatherThanOverflowing() throws ProtocolException {
        // 1 + Integer.MAX_VALUE overflows an int: the frame size must not come out negative
        byte[] header = WireBytes.messageHeader('d', Integer.MAX_VALUE);
        assertThat(messageLength(header, Integer.MAX_VALUE)).isEqualTo(FrameDecoder.NEED_MORE);
        assertThat(messageLength(WireBytes.messageHeader('d', Integer.MAX_VALUE - 1), Integer.MAX_VALUE))
                .isEqualTo(FrameDecoder.NEED_MORE);
    }
}
