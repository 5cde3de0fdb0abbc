package dev.pgferry.protocol;

/**
 * Length checks for the two frame shapes of the protocol, as {@link StartupFrameDecoder} and
 * {@link MessageFrameDecoder} apply them to a declared length before anything is buffered.
 */
public final class Framing {

    private Framing() {}

    /**
     * The declared length of an untyped startup-phase packet (a 4-byte length that counts itself, then the body),
     * refused before anything is buffered. PostgreSQL refuses one outside [8, 10 004] at once (ProcessStartupPacket: a
     * body of at least a protocol version and at most MAX_STARTUP_PACKET_LENGTH bytes); so do we, as it does: without
     * a word to the client (COMMERROR), since bytes that do not even frame a startup packet may come from anything
     * but a PostgreSQL client, or from one that ended before it sent its startup packet (node-postgres's Terminate,
     * {@code X 0 0 0 4}, reads as a length of 1 476 395 008).
     */
    public static void checkStartupLength(int len) throws ProtocolException {
        if (len < ProtocolCodes.MIN_STARTUP_PACKET_LENGTH || len - 4 > ProtocolCodes.MAX_STARTUP_PACKET_LENGTH) {
            throw ProtocolException.unanswered("invalid length of startup packet");
        }
    }

    /**
     * The declared length of a typed message (1 type byte, a 4-byte length that counts itself, then the body): at least
     * 4, at most {@code maxLength}; refused before anything is buffered.
     */
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
