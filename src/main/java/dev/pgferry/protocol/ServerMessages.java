package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encoders for the backend messages pgferry itself emits to its clients. Each writes one message into
 * the given buffer, reserving the length and filling it in afterwards.
 */
public final class ServerMessages {
    private ServerMessages() {}

    /** ErrorResponse with severity (localised and not), SQLSTATE and message, as PostgreSQL orders them. */
    public static void errorResponse(ByteBuf out, String severity, String sqlState, String message) {
        fields(out, ProtocolCodes.ERROR_RESPONSE, severity, sqlState, message, null);
    }

    public static ByteBuf errorResponse(ByteBufAllocator alloc, String severity, String sqlState, String message) {
        return errorResponse(alloc, severity, sqlState, message, null);
    }

    /** An ErrorResponse with a DETAIL field ('D') after the message when {@code detail} is not null. */
    public static ByteBuf errorResponse(ByteBufAllocator alloc, String severity, String sqlState, String message,
            String detail) {
        ByteBuf out = alloc.buffer(32 + (message.length() + (detail == null ? 0 : detail.length())) * 3);
        fields(out, ProtocolCodes.ERROR_RESPONSE, severity, sqlState, message, detail);
        return out;
    }

    /**
     * An ERROR as the server words it, with the source position fields ('F', 'L', 'R') that drivers read: pgjdbc
     * prepares a statement again after 0A000 only when the routine is PostgreSQL's {@code RevalidateCachedQuery}.
     */
    public static ByteBuf serverError(ByteBufAllocator alloc, String sqlState, String message, String file, String line,
            String routine) {
        ByteBuf out = alloc.buffer(64 + message.length() + file.length() + routine.length());
        int start = begin(out, ProtocolCodes.ERROR_RESPONSE);
        field(out, 'S', "ERROR");
        field(out, 'V', "ERROR");
        field(out, 'C', sqlState);
        field(out, 'M', message);
        field(out, 'F', file);
        field(out, 'L', line);
        field(out, 'R', routine);
        out.writeByte(0);
        end(out, start);
        return out;
    }

    public static void noticeResponse(ByteBuf out, String severity, String sqlState, String message) {
        fields(out, ProtocolCodes.NOTICE_RESPONSE, severity, sqlState, message, null);
    }

    /** ErrorResponse and NoticeResponse share their layout: fields, then a terminating NUL. */
    private static void fields(ByteBuf out, byte type, String severity, String sqlState, String message,
            String detail) {
        int start = begin(out, type);
        field(out, 'S', severity);
        field(out, 'V', severity);
        field(out, 'C', sqlState);
        field(out, 'M', message);
        if (detail != null) {
            field(out, 'D', detail);
        }
        out.writeByte(0);
        end(out, start);
    }

    /**
     * A copy of the ErrorResponse/NoticeResponse at {@code [start, end)} of {@code in} whose message field
     * ('M') has its first occurrence of {@code target} replaced by {@code replacement}, every other field kept
     * byte for byte; null if the message field does not contain {@code target} (or the message has none).
     */
    public static ByteBuf replaceInMessageField(ByteBufAllocator alloc, ByteBuf in, int start, int end, byte[] target,
            byte[] replacement) {
        int i = start + 5;
        while (i < end && in.getByte(i) != 0) {
            byte code = in.getByte(i);
            int valueStart = i + 1;
            int valueEnd = in.indexOf(valueStart, end, (byte) 0);
            if (valueEnd < 0) {
                return null;
            }
            if (code == 'M') {
                int found = ByteBufUtil.indexOf(Unpooled.wrappedBuffer(target), in.slice(valueStart, valueEnd - valueStart));
                if (found < 0) {
                    return null;
                }
                int at = valueStart + found;
                ByteBuf out = alloc.buffer(end - start - target.length + replacement.length);
                out.writeBytes(in, start, at - start).writeBytes(replacement);
                out.writeBytes(in, at + target.length, end - at - target.length);
                out.setInt(1, out.writerIndex() - 1);
                return out;
            }
            i = valueEnd + 1;
        }
        return null;
    }

    public static void authentication(ByteBuf out, int code) {
        out.writeByte(ProtocolCodes.AUTHENTICATION).writeInt(8).writeInt(code);
    }

    public static void authenticationMd5(ByteBuf out, byte[] salt) {
        out.writeByte(ProtocolCodes.AUTHENTICATION).writeInt(12).writeInt(ProtocolCodes.AUTH_MD5).writeBytes(salt);
    }

    /** AuthenticationSASL listing the mechanisms, each NUL-terminated, then an empty one. */
    public static void authenticationSasl(ByteBuf out, List<String> mechanisms) {
        int start = begin(out, ProtocolCodes.AUTHENTICATION);
        out.writeInt(ProtocolCodes.AUTH_SASL);
        for (String m : mechanisms) {
            cstring(out, m);
        }
        out.writeByte(0);
        end(out, start);
    }

    /** AuthenticationSASLContinue (11) or AuthenticationSASLFinal (12) with its payload. */
    public static void authenticationSaslData(ByteBuf out, int code, byte[] data) {
        out.writeByte(ProtocolCodes.AUTHENTICATION).writeInt(8 + data.length).writeInt(code).writeBytes(data);
    }

    public static void parameterStatus(ByteBuf out, String name, String value) {
        int start = begin(out, ProtocolCodes.PARAMETER_STATUS);
        cstring(out, name);
        cstring(out, value);
        end(out, start);
    }

    public static void backendKeyData(ByteBuf out, int processId, byte[] secretKey) {
        out.writeByte(ProtocolCodes.BACKEND_KEY_DATA).writeInt(8 + secretKey.length).writeInt(processId)
                .writeBytes(secretKey);
    }

    public static void readyForQuery(ByteBuf out, byte status) {
        out.writeByte(ProtocolCodes.READY_FOR_QUERY).writeInt(5).writeByte(status);
    }

    /** NegotiateProtocolVersion: the newest minor version we support and the options we did not recognise. */
    public static void negotiateProtocolVersion(ByteBuf out, int minor, List<String> unsupportedOptions) {
        int start = begin(out, ProtocolCodes.NEGOTIATE_PROTOCOL_VERSION);
        out.writeInt((3 << 16) | minor);
        out.writeInt(unsupportedOptions.size());
        for (String o : unsupportedOptions) {
            cstring(out, o);
        }
        end(out, start);
    }

    public static void parseComplete(ByteBuf out) {
        out.writeByte(ProtocolCodes.PARSE_COMPLETE).writeInt(4);
    }

    public static void closeComplete(ByteBuf out) {
        out.writeByte(ProtocolCodes.CLOSE_COMPLETE).writeInt(4);
    }

    public static void commandComplete(ByteBuf out, String tag) {
        int start = begin(out, ProtocolCodes.COMMAND_COMPLETE);
        cstring(out, tag);
        end(out, start);
    }

    public static void emptyQueryResponse(ByteBuf out) {
        out.writeByte('I').writeInt(4);
    }

    /** RowDescription with text columns of type text (OID 25). */
    public static void rowDescription(ByteBuf out, List<String> columns) {
        int start = begin(out, ProtocolCodes.ROW_DESCRIPTION);
        out.writeShort(columns.size());
        for (String c : columns) {
            cstring(out, c);
            out.writeInt(0).writeShort(0).writeInt(25).writeShort(-1).writeInt(-1).writeShort(0);
        }
        end(out, start);
    }

    /** DataRow of text values; null is SQL NULL. */
    public static void dataRow(ByteBuf out, List<String> values) {
        int start = begin(out, ProtocolCodes.DATA_ROW);
        out.writeShort(values.size());
        for (String v : values) {
            if (v == null) {
                out.writeInt(-1);
            } else {
                int lenIdx = out.writerIndex();
                out.writeInt(0);
                int n = out.writeCharSequence(v, StandardCharsets.UTF_8);
                out.setInt(lenIdx, n);
            }
        }
        end(out, start);
    }

    static int begin(ByteBuf out, byte type) {
        out.writeByte(type);
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    static void end(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    static void field(ByteBuf out, char code, String value) {
        out.writeByte(code);
        cstring(out, value);
    }

    static void cstring(ByteBuf out, String s) {
        out.writeCharSequence(s, StandardCharsets.UTF_8);
        out.writeByte(0);
    }
}
