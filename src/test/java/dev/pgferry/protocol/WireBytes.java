package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds raw frontend packets byte by byte, so tests can write exactly what a broken client would. */
public final class WireBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public static WireBytes create() {
        return new WireBytes();
    }

    /**
     * The size of the startup packet at {@code in}'s reader index as a fresh {@link StartupFrameDecoder} frames it, or
     * {@link FrameDecoder#NEED_MORE}; {@code in}'s indices and reference count are left as they were.
     */
    public static int startupFrameLength(ByteBuf in) throws ProtocolException {
        return frameLength(new StartupFrameDecoder(), in);
    }

    /** As {@link #startupFrameLength}, for a typed message under {@code maxLength} ({@link MessageFrameDecoder}). */
    public static int messageFrameLength(ByteBuf in, int maxLength) throws ProtocolException {
        return frameLength(new MessageFrameDecoder(maxLength), in);
    }

    private static int frameLength(FrameDecoder frames, ByteBuf in) throws ProtocolException {
        frames.append(in.alloc(), in.retainedDuplicate());
        try {
            return frames.next();
        } finally {
            frames.release();
        }
    }

    public WireBytes int32(int v) {
        out.write(ByteBuffer.allocate(4).putInt(v).array(), 0, 4);
        return this;
    }

    public WireBytes byte1(int b) {
        out.write(b);
        return this;
    }

    public WireBytes bytes(byte[] b) {
        out.write(b, 0, b.length);
        return this;
    }

    /** A string and its NUL terminator. */
    public WireBytes cstring(String s) {
        return bytes(s.getBytes(StandardCharsets.UTF_8)).byte1(0);
    }

    public byte[] toArray() {
        return out.toByteArray();
    }

    /** A startup-phase packet: its length (counting itself), then {@code body}. */
    public static byte[] startupPacket(byte[] body) {
        return create().int32(4 + body.length).bytes(body).toArray();
    }

    /** A StartupMessage for {@code code} with name/value pairs and the final terminator. */
    public static byte[] startupMessage(int code, String... nameValues) {
        WireBytes body = create().int32(code);
        for (String s : nameValues) {
            body.cstring(s);
        }
        return startupPacket(body.byte1(0).toArray());
    }

    /** A typed message: type byte, length (counting itself), body. */
    public static byte[] message(char type, byte[] body) {
        return create().byte1(type).int32(4 + body.length).bytes(body).toArray();
    }

    /** A typed message whose length field says {@code declared}, whatever follows. */
    public static byte[] messageHeader(char type, int declared) {
        return create().byte1(type).int32(declared).toArray();
    }

    public static byte[] query(String sql) {
        return message('Q', create().cstring(sql).toArray());
    }
}
