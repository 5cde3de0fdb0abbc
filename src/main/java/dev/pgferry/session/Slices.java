package dev.pgferry.session;

import dev.pgferry.protocol.Cumulator;
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
     * After relaying {@code in} up to its reader index: writes the run not yet written ({@code runStart} on) to
     * {@code out} and returns what to keep of {@code in} (null if nothing). When the run is the whole read
     * ({@code start} on) and nothing is left, the buffer itself goes out instead of a slice of it.
     */
    static ByteBuf relayRest(Channel out, ByteBuf in, int start, int runStart) {
        int end = in.readerIndex();
        if (runStart == start && end > start && !in.isReadable()) {
            in.readerIndex(start);
            out.write(in, out.voidPromise());
            return null;
        }
        write(out, in, runStart, end);
        return Cumulator.keepRest(in);
    }

    /** Turns reading on {@code channel} on or off, without a syscall when it already is. */
    static void autoRead(Channel channel, boolean on) {
        if (channel.config().isAutoRead() != on) {
            channel.config().setAutoRead(on);
        }
    }
}
