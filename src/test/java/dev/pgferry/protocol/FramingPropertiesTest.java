package dev.pgferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Whatever bytes arrive, the frame decoders and StartupParser answer with a frame, "need more" or a ProtocolException —
 * never another exception — and a valid stream cut anywhere reassembles into the same frames.
 */
class FramingPropertiesTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final int MAX_MESSAGE = 4096;

    /**
     * The login handler's reading: startup packets, then typed messages once a StartupMessage came, each read handed
     * to the decoder of the phase, the rest of the startup decoder taken over by the message decoder.
     */
    private static final class LoginFrames {
        final StartupFrameDecoder startup = new StartupFrameDecoder();
        final MessageFrameDecoder messages = new MessageFrameDecoder(MAX_MESSAGE);
        boolean startupPhase = true;

        List<byte[]> read(ByteBuf read) throws ProtocolException {
            (startupPhase ? startup : messages).append(ALLOC, read);
            List<byte[]> frames = new ArrayList<>();
            while (true) {
                FrameDecoder d = startupPhase ? startup : messages;
                int len = d.next();
                if (len == FrameDecoder.NEED_MORE) {
                    d.releaseIfEmpty();
                    return frames;
                }
                ByteBuf in = d.buffer();
                assertThat(len).isPositive().isLessThanOrEqualTo(in.readableBytes());
                int start = in.readerIndex();
                d.skipFrame();
                frames.add(ByteBufUtil.getBytes(in, start, len));
                if (startupPhase && StartupParser.parse(in.slice(start, len)) instanceof StartupPacket.StartupMessage) {
                    startupPhase = false;
                    messages.takeOver(startup);
                }
            }
        }

        boolean empty() {
            return startup.buffer() == null && messages.buffer() == null;
        }

        void release() {
            startup.release();
            messages.release();
        }
    }

    @Property(tries = 2000)
    void garbageAtStartupNeverThrowsAnythingButProtocolException(@ForAll @Size(max = 400) byte[] garbage) {
        ByteBuf in = ALLOC.buffer(garbage.length).writeBytes(garbage);
        LoginFrames frames = new LoginFrames();
        try {
            frames.read(in);
        } catch (ProtocolException e) {
            assertThat(e.sqlState()).isIn("08P01", "0A000", "28000");
        } finally {
            frames.release();
            assertThat(in.refCnt()).isZero();
        }
    }

    @Property(tries = 2000)
    void garbageAfterLoginNeverThrowsAnythingButProtocolException(@ForAll @Size(max = 400) byte[] garbage,
            @ForAll @IntRange(min = 4, max = Integer.MAX_VALUE) int maxLength) {
        ByteBuf in = ALLOC.buffer(garbage.length).writeBytes(garbage);
        MessageFrameDecoder frames = new MessageFrameDecoder(maxLength);
        frames.append(ALLOC, in);
        try {
            while (true) {
                int len = frames.next();
                if (len == FrameDecoder.NEED_MORE) {
                    break;
                }
                assertThat(len).isBetween(5, frames.readableBytes());
                frames.skipFrame();
            }
        } catch (ProtocolException e) {
            assertThat(e.sqlState()).isEqualTo("08P01");
        } finally {
            frames.release();
            assertThat(in.refCnt()).isZero();
        }
    }

    /** Packets with a plausible length and a known or random code, so the parser, not just the framing, is hit. */
    @Provide
    Arbitrary<byte[]> plausibleStartupPackets() {
        Arbitrary<Integer> code = Arbitraries.oneOf(
                Arbitraries.of(ProtocolCodes.PROTOCOL_3_0, ProtocolCodes.PROTOCOL_3_2, ProtocolCodes.SSL_REQUEST_CODE,
                        ProtocolCodes.GSSENC_REQUEST_CODE, ProtocolCodes.CANCEL_REQUEST_CODE, (3 << 16) | 99, 2 << 16),
                Arbitraries.integers());
        Arbitrary<byte[]> body = Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMaxSize(300),
                // mostly NULs and letters: name/value lists, some well formed, most not
                Arbitraries.of((byte) 0, (byte) 'u', (byte) 's', (byte) 'e', (byte) 'r', (byte) '_', (byte) 'p')
                        .array(byte[].class).ofMaxSize(40));
        return Combinators.combine(code, body).as((c, b) -> WireBytes.startupPacket(
                WireBytes.create().int32(c).bytes(b).toArray()));
    }

    @Property(tries = 3000)
    void plausibleStartupPacketsParseOrFailAsProtocolViolations(@ForAll("plausibleStartupPackets") byte[] packet) {
        ByteBuf in = ALLOC.buffer(packet.length).writeBytes(packet);
        try {
            int len = WireBytes.startupFrameLength(in);
            assertThat(len).isEqualTo(packet.length);
            StartupPacket p = StartupParser.parse(in.slice(0, len));
            assertThat(p).isNotNull();
            if (p instanceof StartupPacket.StartupMessage m) {
                assertThat(m.user()).isNotEmpty();
                assertThat(m.majorVersion()).isEqualTo(3);
            }
        } catch (ProtocolException e) {
            assertThat(e.sqlState()).isIn("08P01", "0A000", "28000");
            assertThat(e.getMessage()).isNotBlank();
        } finally {
            assertThat(in.release()).isTrue();
        }
    }

    @Provide
    Arbitrary<byte[]> validStartupMessages() {
        Arbitrary<String> word = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(12);
        return Combinators.combine(word, word.list().ofMaxSize(6), Arbitraries.of(0, 2)).as((user, extra, minor) -> {
            List<String> nv = new ArrayList<>(List.of("user", user));
            for (String e : extra) {
                nv.add("x" + e);
                nv.add(e);
            }
            return WireBytes.startupMessage((3 << 16) | minor, nv.toArray(String[]::new));
        });
    }

    @Property(tries = 300)
    void everyTruncationOfAValidStartupMessageNeedsMore(@ForAll("validStartupMessages") byte[] packet)
            throws ProtocolException {
        for (int n = 0; n < packet.length; n++) {
            ByteBuf in = ALLOC.buffer(n).writeBytes(packet, 0, n);
            try {
                assertThat(WireBytes.startupFrameLength(in)).isEqualTo(FrameDecoder.NEED_MORE);
            } finally {
                assertThat(in.release()).isTrue();
            }
        }
        ByteBuf whole = ALLOC.buffer(packet.length).writeBytes(packet);
        try {
            assertThat(StartupParser.parse(whole.slice(0, WireBytes.startupFrameLength(whole))))
                    .isInstanceOf(StartupPacket.StartupMessage.class);
        } finally {
            whole.release();
        }
    }

    @Provide
    Arbitrary<List<byte[]>> typedMessages() {
        Arbitrary<byte[]> msg = Combinators.combine(
                Arbitraries.of('Q', 'P', 'B', 'E', 'S', 'H', 'd', 'c', 'X', 'p'),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(200)).as((t, body) -> WireBytes.message(t, body));
        return msg.list().ofMaxSize(12);
    }

    @Property(tries = 500)
    void aValidStreamSplitAnywhereReassemblesTheSameFrames(@ForAll("validStartupMessages") byte[] startup,
            @ForAll("typedMessages") List<byte[]> messages, @ForAll @Size(max = 40) List<@IntRange(min = 0,
                    max = 5000) Integer> cuts) throws ProtocolException {
        List<byte[]> expected = new ArrayList<>();
        expected.add(WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE).toArray());
        expected.add(startup);
        expected.addAll(messages);
        WireBytes all = WireBytes.create();
        expected.forEach(all::bytes);
        byte[] stream = all.toArray();

        TreeSet<Integer> points = new TreeSet<>();
        for (int c : cuts) {
            points.add(c % (stream.length + 1));
        }
        points.add(stream.length);
        List<ByteBuf> reads = new ArrayList<>();
        List<byte[]> frames = new ArrayList<>();
        LoginFrames login = new LoginFrames();
        int from = 0;
        for (int to : points) {
            ByteBuf read = ALLOC.buffer(Math.max(1, to - from)).writeBytes(stream, from, to - from);
            reads.add(read);
            from = to;
            frames.addAll(login.read(read));
        }
        assertThat(login.empty()).as("nothing left over").isTrue();
        assertThat(frames).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(frames.get(i)).as("frame %d", i).containsExactly(expected.get(i));
        }
        for (ByteBuf r : reads) {
            assertThat(r.refCnt()).as("every read released").isZero();
        }
    }

    @Property(tries = 500)
    void aValidStreamFedOneByteAtATimeReassemblesTheSameFrames(@ForAll("validStartupMessages") byte[] startup,
            @ForAll("typedMessages") List<byte[]> messages) throws ProtocolException {
        WireBytes all = WireBytes.create().bytes(startup);
        messages.forEach(all::bytes);
        byte[] stream = all.toArray();
        List<byte[]> frames = new ArrayList<>();
        LoginFrames login = new LoginFrames();
        for (byte b : stream) {
            frames.addAll(login.read(ALLOC.buffer(1).writeByte(b)));
        }
        assertThat(login.empty()).isTrue();
        assertThat(frames).hasSize(1 + messages.size());
        assertThat(frames.get(0)).containsExactly(startup);
        for (int i = 0; i < messages.size(); i++) {
            assertThat(frames.get(i + 1)).containsExactly(messages.get(i));
        }
    }
}
