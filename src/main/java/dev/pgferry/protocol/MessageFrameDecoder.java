package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Frames typed protocol messages, either direction: 1 type byte, a 4-byte length that counts itself (at least 4, at
 * most the configured maximum), then the body. A length outside that range is refused from the header alone,
 * before the body is buffered (08P01, "invalid message length …").
 */
public final class MessageFrameDecoder extends FrameDecoder {
    private int maxLength;

    /** {@code maxLength}: the longest declared length accepted (the length word counts itself, not the type). */
    public MessageFrameDecoder(int maxLength) {
        super(1);
        this.maxLength = maxLength;
    }

    /** Changes the limit for headers read from now on (a login's next message may have a limit of its own). */
    public void maxLength(int maxLength) {
        this.maxLength = maxLength;
    }

    /** The type byte of the next frame (unsigned), or -1 when not even that has come. */
    public int peekType() {
        ByteBuf in = buffer();
        return in == null || !in.isReadable() ? -1 : in.getUnsignedByte(in.readerIndex());
    }

    /** What {@link #readAll} hands each whole frame to: the buffer at the frame's first byte, and its length. */
    @FunctionalInterface
    public interface FrameHandler {
        void frame(ByteBuf in, int length) throws ProtocolException;
    }

    /**
     * Appends {@code data} and hands every whole frame now buffered to {@code handler}, read in place; a partial one
     * stays for the next read, and the buffer is let go when nothing is left. The loop of a reader that takes every
     * message as it comes (a role check, the LISTEN connection).
     */
    public void readAll(ByteBufAllocator alloc, ByteBuf data, FrameHandler handler) throws ProtocolException {
        append(alloc, data);
        int frame;
        while ((frame = next()) != NEED_MORE) {
            handler.frame(buffer(), frame);
            skipFrame();
        }
        releaseIfEmpty();
    }

    @Override
    void checkLength(ByteBuf in, int declared) throws ProtocolException {
        Framing.checkMessageLength(in.getByte(in.readerIndex()), declared, maxLength);
    }
}
