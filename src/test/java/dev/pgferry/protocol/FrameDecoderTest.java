package dev.pgferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The two frame decoders fed as a connection feeds them: in an {@link EmbeddedChannel}, one byte at a time and in
 * random splits, with bad lengths refused from the header alone, and every buffer released in the end (the test JVM
 * runs Netty's leak detector at paranoid; here each buffer's count is checked as well).
 */
class FrameDecoderTest {
    private static final int MAX = 1000;

    /** Every buffer a test fed or got back, all of which must end released. */
    private final List<ByteBuf> tracked = new ArrayList<>();

    @AfterEach
    void nothingLeaks() {
        for (ByteBuf b : tracked) {
            assertThat(b.refCnt()).as("reference count of %s", b).isZero();
        }
    }

    /** A handler that reads with {@code decoder} as the login and relay handlers do, passing each frame on. */
    private static final class Framer extends ChannelInboundHandlerAdapter {
        final FrameDecoder decoder;
        ProtocolException refused;

        Framer(FrameDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            decoder.append(ctx.alloc(), (ByteBuf) msg);
            try {
                while (decoder.next() != FrameDecoder.NEED_MORE) {
                    ctx.fireChannelRead(decoder.readFrame());
                }
            } catch (ProtocolException e) {
                refused = e;
                ctx.close();
            }
            decoder.releaseIfEmpty();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            decoder.release();
            ctx.fireChannelInactive();
        }
    }

    private ByteBuf pooled(byte[] bytes, int from, int to) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(Math.max(1, to - from)).writeBytes(bytes, from, to - from);
        tracked.add(b);
        return b;
    }

    /** Feeds {@code stream} cut at {@code cuts} (ascending) and returns the frames that came out, as bytes. */
    private List<byte[]> feed(Framer framer, byte[] stream, int[] cuts) {
        EmbeddedChannel ch = new EmbeddedChannel(framer);
        int from = 0;
        for (int cut : cuts) {
            if (cut > from && ch.isOpen()) {
                ch.writeInbound(pooled(stream, from, cut));
                from = cut;
            }
        }
        if (from < stream.length && ch.isOpen()) {
            ch.writeInbound(pooled(stream, from, stream.length));
        }
        List<byte[]> frames = new ArrayList<>();
        for (ByteBuf f; (f = ch.readInbound()) != null; ) {
            tracked.add(f);
            frames.add(ByteBufUtil.getBytes(f));
            f.release();
        }
        ch.finishAndReleaseAll();
        return frames;
    }

    private static int[] everyByte(int length) {
        int[] cuts = new int[length];
        Arrays.setAll(cuts, i -> i + 1);
        return cuts;
    }

    private static int[] randomCuts(Random random, int length) {
        return random.ints(random.nextInt(6), 0, length + 1).sorted().toArray();
    }

    private static byte[] concat(byte[]... parts) {
        WireBytes w = WireBytes.create();
        for (byte[] p : parts) {
            w.bytes(p);
        }
        return w.toArray();
    }

    private static final byte[][] MESSAGES = {
        WireBytes.query("select 1"),
        WireBytes.message('P', WireBytes.create().cstring("s1").cstring("select $1").byte1(0).byte1(0).toArray()),
        WireBytes.message('S', new byte[0]),
        WireBytes.message('d', new byte[MAX - 4]),
        WireBytes.message('X', new byte[0]),
    };

    private static final byte[][] STARTUP_PACKETS = {
        WireBytes.startupPacket(WireBytes.create().int32(ProtocolCodes.SSL_REQUEST_CODE).toArray()),
        WireBytes.startupPacket(WireBytes.create().int32(ProtocolCodes.GSSENC_REQUEST_CODE).toArray()),
        WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "alice", "database", "shop"),
    };

    private void assertFramesSurviveAnySplit(Supplier<FrameDecoder> decoders, byte[][] frames) {
        byte[] stream = concat(frames);
        List<byte[]> byByte = feed(new Framer(decoders.get()), stream, everyByte(stream.length));
        assertThat(byByte).containsExactly(frames);
        Random random = new Random(17);
        for (int i = 0; i < 300; i++) {
            int[] cuts = randomCuts(random, stream.length);
            assertThat(feed(new Framer(decoders.get()), stream, cuts)).as("cut at %s", Arrays.toString(cuts))
                    .containsExactly(frames);
        }
    }

    // ---- typed messages ----------------------------------------------------------------------------

    @Test
    void messagesComeOutWholeFedByteByByteOrInRandomSplits() {
        assertFramesSurviveAnySplit(() -> new MessageFrameDecoder(MAX), MESSAGES);
    }

    @Test
    void aFrameInsideOneReadIsASliceOfThatReadNotACopy() throws ProtocolException {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        byte[] stream = concat(MESSAGES[0], MESSAGES[2]);
        ByteBuf read = pooled(stream, 0, stream.length);
        d.append(PooledByteBufAllocator.DEFAULT, read);
        assertThat(d.next()).isEqualTo(MESSAGES[0].length);
        ByteBuf frame = d.readFrame();
        assertThat(ByteBufUtil.getBytes(frame)).isEqualTo(MESSAGES[0]);
        read.setByte(0, 'q');
        assertThat(frame.getByte(0)).as("the frame shares the read's memory").isEqualTo((byte) 'q');
        frame.release();
        assertThat(d.next()).isEqualTo(5);
        d.skipFrame();
        d.releaseIfEmpty();
        assertThat(d.buffer()).isNull();
        assertThat(read.refCnt()).isZero();
    }

    @Test
    void statesFollowTheFrame() throws ProtocolException {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        byte[] q = MESSAGES[0];
        assertThat(d.state()).isEqualTo(FrameDecoder.State.HEADER);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(q, 0, 4));
        assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        assertThat(d.state()).as("no length word yet").isEqualTo(FrameDecoder.State.HEADER);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(q, 4, 6));
        assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        assertThat(d.state()).as("length accepted, body missing").isEqualTo(FrameDecoder.State.BODY);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(q, 6, q.length));
        assertThat(d.next()).isEqualTo(q.length);
        assertThat(d.state()).isEqualTo(FrameDecoder.State.HEADER);
        d.skipFrame();
        assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        d.release();
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 3, MAX + 1, Integer.MAX_VALUE})
    void aBadLengthIsRefusedFromTheHeaderAloneAndForGood(int declared) throws ProtocolException {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        byte[] header = WireBytes.messageHeader('Q', declared);
        for (int i = 0; i < 4; i++) {
            d.append(PooledByteBufAllocator.DEFAULT, pooled(header, i, i + 1));
            assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        }
        d.append(PooledByteBufAllocator.DEFAULT, pooled(header, 4, 5));
        String message = "invalid message length " + declared + " for message type \"Q\" (expected: 4 to 1000)";
        assertThatThrownBy(d::next).isInstanceOf(ProtocolException.class).hasMessage(message);
        assertThat(d.state()).isEqualTo(FrameDecoder.State.CORRUPT);
        assertThat(d.buffer()).as("nothing kept once corrupt").isNull();
        d.append(PooledByteBufAllocator.DEFAULT, pooled(MESSAGES[0], 0, MESSAGES[0].length));
        assertThat(d.readableBytes()).as("later reads dropped").isZero();
        assertThatThrownBy(d::next).isInstanceOf(ProtocolException.class).hasMessage(message);
        assertThat(d.takeRest()).isNull();
    }

    @Test
    void aBadLengthAfterGoodFramesClosesTheChannelAfterThem() {
        Framer framer = new Framer(new MessageFrameDecoder(MAX));
        byte[] stream = concat(MESSAGES[0], WireBytes.messageHeader('B', -5), new byte[20]);
        List<byte[]> frames = feed(framer, stream, everyByte(stream.length));
        assertThat(frames).containsExactly(MESSAGES[0]);
        assertThat(framer.refused).hasMessageContaining("invalid message length -5 for message type \"B\"");
        assertThat(framer.refused.answered()).isTrue();
        assertThat(framer.refused.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
    }

    @Test
    void aTruncatedMessageNeedsMoreAndIsReleasedWithTheDecoder() throws ProtocolException {
        byte[] q = MESSAGES[1];
        for (int n = 1; n < q.length; n++) {
            MessageFrameDecoder d = new MessageFrameDecoder(MAX);
            d.append(PooledByteBufAllocator.DEFAULT, pooled(q, 0, n));
            assertThat(d.next()).as("prefix of %d bytes", n).isEqualTo(FrameDecoder.NEED_MORE);
            assertThat(d.readableBytes()).isEqualTo(n);
            d.release();
        }
    }

    @Test
    void aHugeLengthUnderAHugeMaximumNeedsMoreRatherThanOverflowing() throws ProtocolException {
        MessageFrameDecoder d = new MessageFrameDecoder(Integer.MAX_VALUE);
        byte[] header = WireBytes.messageHeader('d', Integer.MAX_VALUE);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(header, 0, header.length));
        assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        d.release();
    }

    @Test
    void aNewMaximumAppliesToTheNextHeader() throws ProtocolException {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        byte[] stream = concat(MESSAGES[3], MESSAGES[3]);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(stream, 0, stream.length));
        assertThat(d.peekType()).isEqualTo('d');
        assertThat(d.next()).isEqualTo(MAX + 1);
        d.skipFrame();
        d.maxLength(MAX - 1);
        assertThatThrownBy(d::next).hasMessage(
                "invalid message length 1000 for message type \"d\" (expected: 4 to 999)");
    }

    @Test
    void peekTypeIsUnsignedAndMinusOneWhenEmpty() {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        assertThat(d.peekType()).isEqualTo(-1);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(new byte[] {(byte) 0xff}, 0, 1));
        assertThat(d.peekType()).isEqualTo(0xff);
        d.release();
    }

    @Test
    void releaseIfEmptyLetsGoOfAConsumedReadAndKeepsAPartialOne() throws ProtocolException {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        d.releaseIfEmpty(); // nothing kept: nothing to do
        ByteBuf done = pooled(MESSAGES[0], 0, MESSAGES[0].length);
        d.append(PooledByteBufAllocator.DEFAULT, done);
        assertThat(d.next()).isEqualTo(MESSAGES[0].length);
        d.skipFrame();
        d.releaseIfEmpty();
        assertThat(d.buffer()).isNull();
        assertThat(done.refCnt()).isZero();
        ByteBuf partial = pooled(MESSAGES[1], 0, 3);
        d.append(PooledByteBufAllocator.DEFAULT, partial);
        d.releaseIfEmpty();
        assertThat(d.buffer()).isSameAs(partial);
        assertThat(partial.refCnt()).isEqualTo(1);
        d.release();
    }

    @Test
    void releaseForgetsAPartialFrameSoTheNextReadStartsAtAHeader() throws ProtocolException {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(MESSAGES[1], 0, 6));
        assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        assertThat(d.state()).isEqualTo(FrameDecoder.State.BODY);
        d.release();
        assertThat(d.state()).isEqualTo(FrameDecoder.State.HEADER);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(MESSAGES[0], 0, MESSAGES[0].length));
        assertThat(d.next()).isEqualTo(MESSAGES[0].length);
        d.release();
    }

    @Test
    void aHeldRefusedReadStaysReadableUntilReleased() {
        MessageFrameDecoder d = new MessageFrameDecoder(MAX);
        d.holdRefusedRead();
        byte[] stream = concat(MESSAGES[0], WireBytes.messageHeader('B', -5));
        ByteBuf read = pooled(stream, 0, stream.length);
        d.append(PooledByteBufAllocator.DEFAULT, read);
        assertThatThrownBy(() -> {
            while (d.next() != FrameDecoder.NEED_MORE) {
                d.skipFrame();
            }
        }).hasMessageContaining("invalid message length -5");
        assertThat(d.state()).isEqualTo(FrameDecoder.State.CORRUPT);
        assertThat(d.buffer()).as("out of reach").isNull();
        assertThat(read.refCnt()).as("held for the frames ahead of the refused one").isEqualTo(1);
        assertThat(ByteBufUtil.getBytes(read, 0, MESSAGES[0].length)).containsExactly(MESSAGES[0]);
        d.release();
        assertThat(read.refCnt()).isZero();
        assertThat(d.state()).as("corrupt for good").isEqualTo(FrameDecoder.State.CORRUPT);
    }

    /**
     * Reads as the session's request relay does: frames read in place, each read's complete frames passed on as one
     * run (a retained slice); on a refused length, the run ahead of it still goes, then the channel closes.
     */
    private static final class RunRelay extends ChannelInboundHandlerAdapter {
        final MessageFrameDecoder frames = new MessageFrameDecoder(MAX);
        ProtocolException refused;

        RunRelay() {
            frames.holdRefusedRead();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            frames.append(ctx.alloc(), (ByteBuf) msg);
            ByteBuf in = frames.buffer();
            if (in == null) {
                return;
            }
            int runStart = in.readerIndex();
            try {
                for (int frame; (frame = frames.next()) != FrameDecoder.NEED_MORE; ) {
                    in.skipBytes(frame);
                }
            } catch (ProtocolException e) {
                refused = e;
            }
            if (in.readerIndex() > runStart) {
                ctx.fireChannelRead(in.retainedSlice(runStart, in.readerIndex() - runStart));
            }
            if (refused != null) {
                ctx.close();
            } else {
                frames.releaseIfEmpty();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            frames.release();
            ctx.fireChannelInactive();
        }
    }

    @Test
    void aRelayHoldingTheRefusedReadStillPassesOnTheFramesAheadOfIt() {
        byte[] good = concat(MESSAGES[0], MESSAGES[2]);
        byte[] stream = concat(good, WireBytes.messageHeader('B', -5), new byte[20]);
        Random random = new Random(17);
        for (int i = 0; i < 200; i++) {
            int[] cuts = i == 0 ? new int[0] : i == 1 ? everyByte(stream.length) : randomCuts(random, stream.length);
            RunRelay relay = new RunRelay();
            EmbeddedChannel ch = new EmbeddedChannel(relay);
            int from = 0;
            for (int cut : cuts) {
                if (cut > from && ch.isOpen()) {
                    ch.writeInbound(pooled(stream, from, cut));
                    from = cut;
                }
            }
            if (from < stream.length && ch.isOpen()) {
                ch.writeInbound(pooled(stream, from, stream.length));
            }
            WireBytes passed = WireBytes.create();
            for (ByteBuf f; (f = ch.readInbound()) != null; ) {
                tracked.add(f);
                passed.bytes(ByteBufUtil.getBytes(f));
                f.release();
            }
            assertThat(passed.toArray()).as("cut at %s", Arrays.toString(cuts)).isEqualTo(good);
            assertThat(relay.refused).hasMessageContaining("invalid message length -5 for message type \"B\"");
            assertThat(ch.isOpen()).isFalse();
            ch.finishAndReleaseAll();
        }
    }

    /** Reads as the login does: startup packets, then, after the StartupMessage, typed messages from its rest. */
    private static final class LoginFramer extends ChannelInboundHandlerAdapter {
        final StartupFrameDecoder startup = new StartupFrameDecoder();
        final MessageFrameDecoder messages = new MessageFrameDecoder(MAX);
        boolean startupPhase = true;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            (startupPhase ? startup : messages).append(ctx.alloc(), (ByteBuf) msg);
            try {
                while (true) {
                    FrameDecoder d = startupPhase ? startup : messages;
                    if (d.next() == FrameDecoder.NEED_MORE) {
                        break;
                    }
                    ByteBuf frame = d.readFrame();
                    if (startupPhase && frame.getInt(4) == ProtocolCodes.PROTOCOL_3_0) {
                        startupPhase = false;
                        messages.takeOver(startup);
                    }
                    ctx.fireChannelRead(frame);
                }
            } catch (ProtocolException e) {
                ctx.close();
            }
            startup.releaseIfEmpty();
            messages.releaseIfEmpty();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            startup.release();
            messages.release();
            ctx.fireChannelInactive();
        }
    }

    @Test
    void theLoginsMessageDecoderTakesOverWhatTheStartupDecoderReadPastTheStartupMessage() {
        byte[][] frames = {STARTUP_PACKETS[0], STARTUP_PACKETS[2], WireBytes.message('p',
                WireBytes.create().cstring("secret").toArray()), MESSAGES[0], MESSAGES[1]};
        byte[] stream = concat(frames);
        Random random = new Random(17);
        for (int i = 0; i < 300; i++) {
            int[] cuts = i == 0 ? new int[0] : i == 1 ? everyByte(stream.length) : randomCuts(random, stream.length);
            LoginFramer login = new LoginFramer();
            EmbeddedChannel ch = new EmbeddedChannel(login);
            int from = 0;
            for (int cut : cuts) {
                if (cut > from) {
                    ch.writeInbound(pooled(stream, from, cut));
                    from = cut;
                }
            }
            if (from < stream.length) {
                ch.writeInbound(pooled(stream, from, stream.length));
            }
            List<byte[]> out = new ArrayList<>();
            for (ByteBuf f; (f = ch.readInbound()) != null; ) {
                tracked.add(f);
                out.add(ByteBufUtil.getBytes(f));
                f.release();
            }
            assertThat(out).as("cut at %s", Arrays.toString(cuts)).containsExactly(frames);
            assertThat(login.startupPhase).isFalse();
            ch.finishAndReleaseAll();
        }
    }

    // ---- startup packets ---------------------------------------------------------------------------

    @Test
    void startupPacketsComeOutWholeFedByteByByteOrInRandomSplits() {
        assertFramesSurviveAnySplit(StartupFrameDecoder::new, STARTUP_PACKETS);
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 4, 7, 10_005, 1 << 30, Integer.MAX_VALUE})
    void aStartupLengthOutsideEightTo10004IsRefusedFromTheLengthWordAlone(int declared) throws ProtocolException {
        StartupFrameDecoder d = new StartupFrameDecoder();
        byte[] word = WireBytes.create().int32(declared).toArray();
        for (int i = 0; i < 3; i++) {
            d.append(PooledByteBufAllocator.DEFAULT, pooled(word, i, i + 1));
            assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        }
        d.append(PooledByteBufAllocator.DEFAULT, pooled(word, 3, 4));
        assertThatThrownBy(d::next).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.getMessage()).isEqualTo("invalid length of startup packet");
            assertThat(e.answered()).as("PostgreSQL's COMMERROR: logged, no reply").isFalse();
        });
        assertThat(d.state()).isEqualTo(FrameDecoder.State.CORRUPT);
        assertThat(d.buffer()).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 10_004})
    void aStartupLengthAtTheLimitsIsAccepted(int declared) throws ProtocolException {
        byte[] packet = new byte[declared];
        System.arraycopy(WireBytes.create().int32(declared).toArray(), 0, packet, 0, 4);
        StartupFrameDecoder d = new StartupFrameDecoder();
        d.append(PooledByteBufAllocator.DEFAULT, pooled(packet, 0, declared - 1));
        assertThat(d.next()).isEqualTo(FrameDecoder.NEED_MORE);
        assertThat(d.state()).isEqualTo(FrameDecoder.State.BODY);
        d.append(PooledByteBufAllocator.DEFAULT, pooled(packet, declared - 1, declared));
        assertThat(d.next()).isEqualTo(declared);
        d.skipFrame();
        d.release();
    }

    @Test
    void messagesAfterTheStartupMessageInTheSameReadGoToTheMessageDecoder() throws ProtocolException {
        byte[] startup = STARTUP_PACKETS[2];
        byte[] password = WireBytes.message('p', WireBytes.create().cstring("secret").toArray());
        byte[] stream = concat(startup, password, Arrays.copyOf(MESSAGES[0], 3));
        StartupFrameDecoder s = new StartupFrameDecoder();
        s.append(PooledByteBufAllocator.DEFAULT, pooled(stream, 0, stream.length));
        assertThat(s.next()).isEqualTo(startup.length);
        ByteBuf packet = s.readFrame();
        assertThat(StartupParser.parse(packet)).isInstanceOf(StartupPacket.StartupMessage.class);
        packet.release();
        MessageFrameDecoder m = new MessageFrameDecoder(MAX);
        m.takeOver(s);
        assertThat(s.buffer()).isNull();
        assertThat(m.next()).isEqualTo(password.length);
        ByteBuf p = m.readFrame();
        assertThat(ByteBufUtil.getBytes(p)).isEqualTo(password);
        p.release();
        assertThat(m.next()).isEqualTo(FrameDecoder.NEED_MORE);
        assertThat(m.readableBytes()).isEqualTo(3);
        m.append(PooledByteBufAllocator.DEFAULT, pooled(MESSAGES[0], 3, MESSAGES[0].length));
        assertThat(m.next()).isEqualTo(MESSAGES[0].length);
        ByteBuf rest = m.takeRest();
        assertThat(ByteBufUtil.getBytes(rest)).isEqualTo(MESSAGES[0]);
        rest.release();
        assertThat(m.state()).isEqualTo(FrameDecoder.State.HEADER);
        assertThat(m.takeRest()).isNull();
    }

    @Test
    void takingOverFromAnEmptyDecoderKeepsNothing() {
        StartupFrameDecoder s = new StartupFrameDecoder();
        MessageFrameDecoder m = new MessageFrameDecoder(MAX);
        m.takeOver(s);
        assertThat(m.buffer()).isNull();
        s.append(PooledByteBufAllocator.DEFAULT, pooled(new byte[1], 0, 0));
        m.takeOver(s);
        assertThat(m.buffer()).as("an empty read is released, not handed over").isNull();
    }

    @Test
    void readAllHandsEveryWholeFrameInPlaceAndKeepsAPartialOne() throws ProtocolException {
        byte[] all = concat(MESSAGES);
        int split = all.length - 3; // the last message's last 3 bytes come with the second read
        MessageFrameDecoder m = new MessageFrameDecoder(MAX);
        List<byte[]> seen = new ArrayList<>();
        MessageFrameDecoder.FrameHandler handler = (in, length) -> {
            seen.add(ByteBufUtil.getBytes(in, in.readerIndex(), length));
        };
        m.readAll(PooledByteBufAllocator.DEFAULT, pooled(all, 0, split), handler);
        assertThat(seen).hasSize(MESSAGES.length - 1);
        assertThat(m.readableBytes()).isEqualTo(MESSAGES[MESSAGES.length - 1].length - 3);
        m.readAll(PooledByteBufAllocator.DEFAULT, pooled(all, split, all.length), handler);
        assertThat(seen).hasSize(MESSAGES.length);
        for (int i = 0; i < MESSAGES.length; i++) {
            assertThat(seen.get(i)).isEqualTo(MESSAGES[i]);
        }
        assertThat(m.buffer()).as("let go when nothing is left").isNull();
    }
}
