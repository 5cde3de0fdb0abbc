package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Encoders for the frontend messages pgferry sends as a client of PostgreSQL. */
public final class FrontendMessages {
    private FrontendMessages() {}

    public static void startupMessage(ByteBuf out, Map<String, String> params) {
        int start = out.writerIndex();
        out.writeInt(0).writeInt(ProtocolCodes.PROTOCOL_3_0);
        params.forEach((k, v) -> {
            ServerMessages.cstring(out, k);
            ServerMessages.cstring(out, v);
        });
        out.writeByte(0);
        out.setInt(start, out.writerIndex() - start);
    }

    public static void sslRequest(ByteBuf out) {
        out.writeInt(8).writeInt(ProtocolCodes.SSL_REQUEST_CODE);
    }

    public static void cancelRequest(ByteBuf out, int processId, byte[] secretKey) {
        out.writeInt(12 + secretKey.length).writeInt(ProtocolCodes.CANCEL_REQUEST_CODE).writeInt(processId)
                .writeBytes(secretKey);
    }

    /** PasswordMessage with a NUL-terminated payload (cleartext or MD5 response). */
    public static void passwordMessage(ByteBuf out, byte[] payload) {
        out.writeByte(ProtocolCodes.PASSWORD).writeInt(4 + payload.length + 1).writeBytes(payload).writeByte(0);
    }

    public static void saslInitialResponse(ByteBuf out, String mechanism, byte[] data) {
        int start = ServerMessages.begin(out, ProtocolCodes.PASSWORD);
        ServerMessages.cstring(out, mechanism);
        out.writeInt(data.length).writeBytes(data);
        ServerMessages.end(out, start);
    }

    public static void saslResponse(ByteBuf out, byte[] data) {
        out.writeByte(ProtocolCodes.PASSWORD).writeInt(4 + data.length).writeBytes(data);
    }

    public static void query(ByteBuf out, String sql) {
        int start = ServerMessages.begin(out, ProtocolCodes.QUERY);
        out.writeCharSequence(sql, StandardCharsets.UTF_8);
        out.writeByte(0);
        ServerMessages.end(out, start);
    }

    public static void terminate(ByteBuf out) {
        out.writeByte(ProtocolCodes.TERMINATE).writeInt(4);
    }

    public static void sync(ByteBuf out) {
        out.writeByte(ProtocolCodes.SYNC).writeInt(4);
    }
}
