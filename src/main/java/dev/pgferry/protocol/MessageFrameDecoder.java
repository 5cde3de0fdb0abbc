package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;

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

    @Override
    void checkLength(ByteBuf in, int declared) throws ProtocolException {
        Framing.checkMessageLength(in.getByte(in.readerIndex()), declared, maxLength);
    }
}
