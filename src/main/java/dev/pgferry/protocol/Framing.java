package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Length checks for the two frame shapes of the protocol. Each returns the whole frame's size in bytes
 * once it is known, or {@link #NEED_MORE}; limits are checked before anything is buffered.
 */
public final class Framing {
    public static final int NEED_MORE = -1;

    private Framing() {}

    /**
     * An untyped startup-phase packet: a 4-byte length that counts itself, then the body.
     * PostgreSQL refuses a declared length outside [8, 10 004] at once (ProcessStartupPacket: a body of at least a
     * protocol version and at most MAX_STARTUP_PACKET_LENGTH bytes); so do we, as it does: without a word to the client
     * (COMMERROR), since bytes that do not even frame a startup packet may come from anything but a PostgreSQL client,
     * or from one that ended before it sent its startup packet (node-postgres's Terminate, {@code X 0 0 0 4}, reads as
     * a length of 1 476 395 008).
     */
    public static int startupFrameLength(ByteBuf in) throws ProtocolException {
        if (in.readableBytes() < 4) {
            return NEED_MORE;
        }
        int len = in.getInt(in.readerIndex());
        checkStartupLength(len);
        return in.readableBytes() < len ? NEED_MORE : len;
    }

    /** The check of {@link #startupFrameLength} on a declared length alone: refused before anything is buffered. */
    public static void checkStartupLength(int len) throws ProtocolException {
        if (len < ProtocolCodes.MIN_STARTUP_PACKET_LENGTH || len - 4 > ProtocolCodes.MAX_STARTUP_PACKET_LENGTH) {
            throw ProtocolException.unanswered("invalid length of startup packet");
        }
    }

    /**
     * A typed message: 1 type byte, a 4-byte length that counts itself (≥ 4, ≤ {@code maxLength}), then
     * the body. Returns {@code 1 + length} once all of it is readable.
     */
    public static int messageFrameLength(ByteBuf in, int maxLength) throws ProtocolException {
        int readable = in.readableBytes();
        if (readable < 5) {
            return NEED_MORE;
        }
        int len = in.getInt(in.readerIndex() + 1);
        checkMessageLength(in.getByte(in.readerIndex()), len, maxLength);
        // readable - 1, not len + 1: a length of Integer.MAX_VALUE (allowed when maxLength is) must not overflow
        return readable - 1 < len ? NEED_MORE : len + 1;
    }

    /** The check of {@link #messageFrameLength} on a declared length alone: refused before anything is buffered. */
    public static void checkMessageLength(byte type, int len, int maxLength) throws ProtocolException {
        if (len < 4 || len > maxLength) {
            throw invalidLength(type, len, maxLength);
        }
    }

    public static ProtocolException invalidLength(byte type, int len, int maxLength) {
        return new ProtocolException(SqlState.PROTOCOL_VIOLATION,
                "invalid message length " + len + " for message type \"" + printable(type) + "\" (expected: 4 to "
                        + maxLength + ")");
    }

    public static String printable(byte type) {
        return type >= 0x20 && type < 0x7f ? String.valueOf((char) type) : String.format("\\x%02x", type & 0xff);
    }
}
