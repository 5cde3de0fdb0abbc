package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Keeps the unread tail of a stream of reads. Only an incomplete frame left at the end of a read is ever
 * copied; in the common case, where reads end on frame boundaries, the read buffer itself is used.
 */
public final class Cumulator {
    private Cumulator() {}

    /** Appends {@code in} to {@code acc} (which may be null) and returns the buffer to read from; takes ownership of {@code in}. */
    public static ByteBuf append(ByteBufAllocator alloc, ByteBuf acc, ByteBuf in) {
        if (acc == null) {
            return in;
        }
        try {
            int needed = in.readableBytes();
            if (acc.writableBytes() < needed || acc.refCnt() > 1 || acc.isReadOnly()) {
                ByteBuf bigger = alloc.buffer(Math.max(acc.readableBytes() + needed, 256));
                bigger.writeBytes(acc, acc.readerIndex(), acc.readableBytes());
                acc.release();
                acc = bigger;
            }
            acc.writeBytes(in, in.readerIndex(), needed);
            return acc;
        } finally {
            in.release();
        }
    }
}
