package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses one complete startup-phase packet (length included) the way PostgreSQL's
 * {@code ProcessStartupPacket} does, with the same error wording and SQLSTATEs.
 */
public final class StartupParser {
    /** Protocol 3.2's longest cancel key (PostgreSQL 18's ProcessStartupPacket); 3.0 keys have 4 bytes. */
    private static final int MAX_CANCEL_KEY_LENGTH = 256;
    private static final int MIN_CANCEL_KEY_LENGTH = 4;

    private StartupParser() {}

    /** The first packet of a connection: {@link #parse(ByteBuf, EncryptionNegotiation)} with nothing negotiated. */
    public static StartupPacket parse(ByteBuf frame) throws ProtocolException {
        return parse(frame, new EncryptionNegotiation());
    }

    /**
     * {@code frame} holds exactly one packet whose length {@link Framing#startupFrameLength} accepted. An SSLRequest or
     * GSSENCRequest is one only while {@code negotiation} leaves it open; otherwise its code is an unsupported protocol
     * version, as in PostgreSQL. Bytes behind an encryption request's code (up to the startup limit) are read and
     * ignored: PostgreSQL reads the whole packet by its length and then looks at the code only.
     */
    public static StartupPacket parse(ByteBuf frame, EncryptionNegotiation negotiation) throws ProtocolException {
        int base = frame.readerIndex();
        int len = frame.getInt(base);
        int code = frame.getInt(base + 4);
        if (code == ProtocolCodes.SSL_REQUEST_CODE && negotiation.sslRequestOpen()) {
            return new StartupPacket.SslRequest();
        }
        if (code == ProtocolCodes.GSSENC_REQUEST_CODE && negotiation.gssEncRequestOpen()) {
            return new StartupPacket.GssEncRequest();
        }
        if (code == ProtocolCodes.CANCEL_REQUEST_CODE) {
            // PostgreSQL answers no cancel request, and one of a bad length is a COMMERROR: logged, closed, no reply.
            // PostgreSQL 15 takes 16 bytes only (and logs "invalid length of startup packet"); 18 takes keys of up to
            // 256 bytes and logs these two messages.
            if (len < 12) {
                throw ProtocolException.unanswered("invalid length of query cancel packet");
            }
            if (len - 12 < MIN_CANCEL_KEY_LENGTH || len - 12 > MAX_CANCEL_KEY_LENGTH) {
                throw ProtocolException.unanswered("invalid length of query cancel key");
            }
            byte[] key = new byte[len - 12];
            frame.getBytes(base + 12, key);
            return new StartupPacket.CancelRequest(frame.getInt(base + 8), key);
        }
        return parseStartupMessage(frame, base, len, code);
    }

    private static StartupPacket parseStartupMessage(ByteBuf frame, int base, int len, int code)
            throws ProtocolException {
        int major = code >>> 16;
        int minor = code & 0xffff;
        if (major != 3) {
            throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, String.format(
                    "unsupported frontend protocol %d.%d: server supports 3.0 to 3.%d", major, minor,
                    ProtocolCodes.LATEST_MINOR));
        }
        Map<String, String> params = new LinkedHashMap<>();
        List<String> options = new ArrayList<>(0);
        int end = base + len;
        int offset = base + 8;
        // name\0value\0 ... \0 — as in PostgreSQL, a name without a value ends the list and the
        // layout check below then fails because the terminator is not the last byte.
        while (offset < end) {
            int nameEnd = frame.indexOf(offset, end, (byte) 0);
            if (nameEnd < 0 || nameEnd == offset) {
                break;
            }
            int valueStart = nameEnd + 1;
            if (valueStart >= end) {
                break;
            }
            int valueEnd = frame.indexOf(valueStart, end, (byte) 0);
            if (valueEnd < 0) {
                break;
            }
            String name = frame.toString(offset, nameEnd - offset, StandardCharsets.UTF_8);
            String value = frame.toString(valueStart, valueEnd - valueStart, StandardCharsets.UTF_8);
            if (name.startsWith("_pq_.")) {
                options.add(name);
            } else {
                params.put(name, value);
            }
            offset = valueEnd + 1;
        }
        if (offset != end - 1 || frame.getByte(end - 1) != 0) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION,
                    "invalid startup packet layout: expected terminator as last byte");
        }
        String user = params.get("user");
        if (user == null || user.isEmpty()) {
            throw new ProtocolException(SqlState.INVALID_AUTHORIZATION,
                    "no PostgreSQL user name specified in startup packet");
        }
        String replication = params.get("replication");
        if (replication != null && !replication.equalsIgnoreCase("false") && !replication.equals("0")
                && !replication.equalsIgnoreCase("off") && !replication.equalsIgnoreCase("no")) {
            throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED,
                    "replication connections are not supported by pgferry");
        }
        return new StartupPacket.StartupMessage(major, minor, Collections.unmodifiableMap(params),
                List.copyOf(options));
    }
}
