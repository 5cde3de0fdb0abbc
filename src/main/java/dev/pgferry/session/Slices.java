package dev.pgferry.session;

import dev.pgferry.protocol.FrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/** How both relays write what they pass on: runs of the read buffer as retained slices, never copies. */
final class Slices {
    private Slices() {}

    /** Writes bytes {@code from..to} of {@code in} to {@code out} as a retained slice; whether there were any. */
    static boolean write(Channel out, ByteBuf in, int from, int to) {
        if (to <= from) {
            return false;
        }
        out.write(in.retainedSlice(from, to - from), out.voidPromise());
        return true;
    }

    /**
     * After relaying the buffer of {@code frames} up to its reader index: writes the run not yet written
     * ({@code runStart} on) to {@code out}; the decoder keeps the rest. When the run is the whole read ({@code start}
     * on) and nothing is left, the buffer itself goes out instead of a slice of it.
     */
    static void relayRest(Channel out, FrameDecoder frames, int start, int runStart) {
        ByteBuf in = frames.buffer();
        int end = in.readerIndex();
        if (runStart == start && end > start && !in.isReadable()) {
            in.readerIndex(start);
            out.write(frames.takeRest(), out.voidPromise());
            return;
        }
        write(out, in, runStart, end);
        frames.releaseIfEmpty();
    }

    /** Turns reading on {@code channel} on or off, without a syscall when it already is. */
    static void autoRead(Channel channel, boolean on) {
        if (channel.config().isAutoRead() != on) {
            channel.config().setAutoRead(on);
        }
    }
}
