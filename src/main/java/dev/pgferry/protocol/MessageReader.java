package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Readers for the fields of complete messages, given the frame's start index (its type byte). */
public final class MessageReader {
    private MessageReader() {}

    /** The NUL-terminated string at {@code index}, bounded by {@code end}; throws if unterminated. */
    public static String cstring(ByteBuf buf, int index, int end) throws ProtocolException {
        int nul = buf.indexOf(index, end, (byte) 0);
        if (nul < 0) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid string in message");
        }
        return buf.toString(index, nul - index, StandardCharsets.UTF_8);
    }

    /** Index just past the NUL-terminated string at {@code index}. */
    public static int skipCstring(ByteBuf buf, int index, int end) throws ProtocolException {
        int nul = buf.indexOf(index, end, (byte) 0);
        if (nul < 0) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid string in message");
        }
        return nul + 1;
    }

    /** The fields of an ErrorResponse or NoticeResponse frame starting at {@code start}. */
    public static Map<Character, String> errorFields(ByteBuf buf, int start) throws ProtocolException {
        int end = start + 1 + buf.getInt(start + 1);
        Map<Character, String> fields = new HashMap<>();
        int i = start + 5;
        while (i < end) {
            byte code = buf.getByte(i);
            if (code == 0) {
                break;
            }
            int nul = buf.indexOf(i + 1, end, (byte) 0);
            if (nul < 0) {
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid error response");
            }
            fields.put((char) code, buf.toString(i + 1, nul - i - 1, StandardCharsets.UTF_8));
            i = nul + 1;
        }
        return fields;
    }

    /** {@code [name, value]} of a ParameterStatus frame starting at {@code start}. */
    public static String[] parameterStatus(ByteBuf buf, int start) throws ProtocolException {
        int end = start + 1 + buf.getInt(start + 1);
        String name = cstring(buf, start + 5, end);
        String value = cstring(buf, start + 5 + name.getBytes(StandardCharsets.UTF_8).length + 1, end);
        return new String[] {name, value};
    }

    /**
     * Whether the ErrorResponse frame at {@code start} carries SQLSTATE {@code code} (five ASCII characters); reads in
     * place, allocates nothing, false for a malformed frame.
     */
    public static boolean hasSqlState(ByteBuf buf, int start, String code) {
        int end = start + 1 + buf.getInt(start + 1);
        int i = start + 5;
        while (i < end && buf.getByte(i) != 0) {
            int nul = buf.indexOf(i + 1, end, (byte) 0);
            if (nul < 0) {
                return false;
            }
            if (buf.getByte(i) == 'C' && nul - i - 1 == code.length()) {
                for (int k = 0; k < code.length(); k++) {
                    if (buf.getByte(i + 1 + k) != code.charAt(k)) {
                        return false;
                    }
                }
                return true;
            }
            i = nul + 1;
        }
        return false;
    }
}
