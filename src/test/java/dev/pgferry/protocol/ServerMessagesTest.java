package dev.pgferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The exact bytes of each message pgferry itself sends, as PostgreSQL lays them out. */
class ServerMessagesTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    /** Encodes after a 3-byte prefix (so lengths must be relative to the message) and returns the message bytes. */
    private static byte[] encode(Consumer<ByteBuf> encoder) {
        ByteBuf out = ALLOC.buffer(8);
        try {
            out.writeBytes(new byte[] {'x', 'y', 'z'});
            encoder.accept(out);
            byte[] all = ByteBufUtil.getBytes(out);
            assertThat(new String(all, 0, 3, StandardCharsets.US_ASCII)).isEqualTo("xyz");
            return java.util.Arrays.copyOfRange(all, 3, all.length);
        } finally {
            assertThat(out.release()).isTrue();
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void errorResponseHasSeverityTwiceThenCodeThenMessage() {
        byte[] expected = WireBytes.create().byte1('E').int32(4 + 7 + 7 + 7 + 34 + 1)
                .byte1('S').cstring("FATAL").byte1('V').cstring("FATAL").byte1('C').cstring("08P01")
                .byte1('M').cstring("invalid length of startup packet").byte1(0).toArray();
        assertThat(expected).hasSize(1 + 4 + 7 + 7 + 7 + 34 + 1);
        assertThat(encode(out -> ServerMessages.errorResponse(out, "FATAL", "08P01",
                "invalid length of startup packet"))).containsExactly(expected);
    }

    @Test
    void errorResponseLengthCountsUtf8Bytes() {
        byte[] bytes = encode(out -> ServerMessages.errorResponse(out, "ERROR", "42601", "näh — 日本"));
        int declared = ((bytes[1] & 0xff) << 24) | ((bytes[2] & 0xff) << 16) | ((bytes[3] & 0xff) << 8) | (bytes[4] & 0xff);
        assertThat(declared).isEqualTo(bytes.length - 1);
        assertThat(new String(bytes, StandardCharsets.UTF_8)).contains("Mnäh — 日本\0\0");
    }

    @Test
    void errorResponseOnItsOwnBufferFromTheAllocator() throws ProtocolException {
        ByteBuf b = ServerMessages.errorResponse(ALLOC, "FATAL", "28P01", "password authentication failed for user \"ü\"");
        try {
            assertThat(MessageReader.errorFields(b, 0)).containsEntry('S', "FATAL").containsEntry('V', "FATAL")
                    .containsEntry('C', "28P01").containsEntry('M', "password authentication failed for user \"ü\"")
                    .hasSize(4);
            assertThat(b.readableBytes()).isEqualTo(1 + b.getInt(1));
        } finally {
            assertThat(b.release()).isTrue();
        }
    }

    @Test
    void errorResponseWithADetailPutsItAfterTheMessage() {
        ByteBuf b = ServerMessages.errorResponse(ALLOC, "FATAL", "08P01", "malformed SCRAM message",
                "Message length does not match input length.");
        try {
            assertThat(ByteBufUtil.getBytes(b)).containsExactly(WireBytes.message('E', WireBytes.create()
                    .byte1('S').cstring("FATAL").byte1('V').cstring("FATAL").byte1('C').cstring("08P01")
                    .byte1('M').cstring("malformed SCRAM message")
                    .byte1('D').cstring("Message length does not match input length.").byte1(0).toArray()));
        } finally {
            assertThat(b.release()).isTrue();
        }
    }

    @Test
    void parameterStatus() {
        assertThat(encode(out -> ServerMessages.parameterStatus(out, "TimeZone", "UTC")))
                .containsExactly(WireBytes.create().byte1('S').int32(4 + 9 + 4).cstring("TimeZone").cstring("UTC").toArray());
        assertThat(encode(out -> ServerMessages.parameterStatus(out, "application_name", "")))
                .containsExactly(WireBytes.create().byte1('S').int32(4 + 17 + 1).cstring("application_name").byte1(0)
                        .toArray());
    }

    @Test
    void backendKeyDataOfProtocol30() {
        assertThat(encode(out -> ServerMessages.backendKeyData(out, 0x01020304, new byte[] {5, 6, 7, 8})))
                .containsExactly('K', 0, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8);
    }

    @Test
    void backendKeyDataOfProtocol32CarriesA32ByteKey() {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (0xa0 + i);
        }
        assertThat(encode(out -> ServerMessages.backendKeyData(out, -2, key)))
                .containsExactly(WireBytes.create().byte1('K').int32(40).int32(-2).bytes(key).toArray());
    }

    @Test
    void readyForQuery() {
        assertThat(encode(out -> ServerMessages.readyForQuery(out, (byte) 'I'))).containsExactly('Z', 0, 0, 0, 5, 'I');
        assertThat(encode(out -> ServerMessages.readyForQuery(out, (byte) 'T'))).containsExactly('Z', 0, 0, 0, 5, 'T');
        assertThat(encode(out -> ServerMessages.readyForQuery(out, (byte) 'E'))).containsExactly('Z', 0, 0, 0, 5, 'E');
    }

    @Test
    void negotiateProtocolVersionListsTheUnrecognisedOptions() {
        assertThat(encode(out -> ServerMessages.negotiateProtocolVersion(out, 0, List.of("_pq_.foo", "_pq_.b"))))
                .containsExactly(WireBytes.create().byte1('v').int32(4 + 4 + 4 + 9 + 7).int32(0x00030000).int32(2)
                        .cstring("_pq_.foo").cstring("_pq_.b").toArray());
    }

    @Test
    void negotiateProtocolVersionWithNoOptions() {
        assertThat(encode(out -> ServerMessages.negotiateProtocolVersion(out, 2, List.of())))
                .containsExactly('v', 0, 0, 0, 12, 0, 3, 0, 2, 0, 0, 0, 0);
    }

    @Test
    void authenticationSaslListsMechanismsThenAnEmptyOne() {
        assertThat(encode(out -> ServerMessages.authenticationSasl(out, List.of("SCRAM-SHA-256"))))
                .containsExactly(WireBytes.create().byte1('R').int32(4 + 4 + 14 + 1).int32(10).cstring("SCRAM-SHA-256")
                        .byte1(0).toArray());
        assertThat(encode(out -> ServerMessages.authenticationSasl(out, List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))))
                .containsExactly(WireBytes.create().byte1('R').int32(4 + 4 + 19 + 14 + 1).int32(10)
                        .cstring("SCRAM-SHA-256-PLUS").cstring("SCRAM-SHA-256").byte1(0).toArray());
    }

    @Test
    void authenticationRequests() {
        assertThat(encode(out -> ServerMessages.authentication(out, 0))).containsExactly('R', 0, 0, 0, 8, 0, 0, 0, 0);
        assertThat(encode(out -> ServerMessages.authentication(out, 3))).containsExactly('R', 0, 0, 0, 8, 0, 0, 0, 3);
        assertThat(encode(out -> ServerMessages.authenticationMd5(out, new byte[] {9, 8, 7, 6})))
                .containsExactly('R', 0, 0, 0, 12, 0, 0, 0, 5, 9, 8, 7, 6);
        byte[] data = ascii("r=abc,s=xyz,i=4096");
        assertThat(encode(out -> ServerMessages.authenticationSaslData(out, 11, data)))
                .containsExactly(WireBytes.create().byte1('R').int32(8 + data.length).int32(11).bytes(data).toArray());
        assertThat(encode(out -> ServerMessages.authenticationSaslData(out, 12, data)))
                .containsExactly(WireBytes.create().byte1('R').int32(8 + data.length).int32(12).bytes(data).toArray());
    }

    @Test
    void messagesReadBackWithMessageReader() throws ProtocolException {
        ByteBuf out = ALLOC.buffer();
        try {
            out.writeByte(0);
            ServerMessages.parameterStatus(out, "DateStyle", "ISO, MDY");
            assertThat(MessageReader.parameterStatus(out, 1)).containsExactly("DateStyle", "ISO, MDY");
        } finally {
            out.release();
        }
    }

    /** An ErrorResponse as PostgreSQL 15 sends 42P05, after a 2-byte prefix, with one more byte after it. */
    private static ByteBuf duplicateError(String name) {
        byte[] msg = WireBytes.message('E', WireBytes.create().byte1('S').cstring("ERROR").byte1('V').cstring("ERROR")
                .byte1('C').cstring("42P05").byte1('M').cstring("prepared statement \"" + name + "\" already exists")
                .byte1('F').cstring("prepare.c").byte1('L').cstring("404").byte1('R').cstring("StorePreparedStatement")
                .byte1(0).toArray());
        return ALLOC.buffer().writeBytes(new byte[] {9, 9}).writeBytes(msg).writeByte(7);
    }

    @Test
    void replaceInMessageFieldRenamesTheStatementAndKeepsEveryOtherField() throws ProtocolException {
        ByteBuf in = duplicateError("pgf_1a2b_c");
        ByteBuf out = ServerMessages.replaceInMessageField(ALLOC, in, 2, in.writerIndex() - 1, ascii("pgf_1a2b_c"),
                ascii("S_1 ü"));
        try {
            assertThat(out.readableBytes()).isEqualTo(1 + out.getInt(1));
            assertThat(out.getByte(0)).isEqualTo((byte) 'E');
            assertThat(MessageReader.errorFields(out, 0)).containsEntry('S', "ERROR").containsEntry('V', "ERROR")
                    .containsEntry('C', "42P05").containsEntry('M', "prepared statement \"S_1 ü\" already exists")
                    .containsEntry('F', "prepare.c").containsEntry('L', "404")
                    .containsEntry('R', "StorePreparedStatement").hasSize(7);
            ByteBuf expected = duplicateError("S_1 ü");
            assertThat(ByteBufUtil.getBytes(out)).containsExactly(ByteBufUtil.getBytes(expected, 2,
                    expected.writerIndex() - 3));
            expected.release();
        } finally {
            in.release();
            out.release();
        }
    }

    @Test
    void replaceInMessageFieldLooksOnlyAtTheMessage() {
        ByteBuf in = duplicateError("x");
        try {
            // "prepare.c" is in field F, not in M: nothing to replace
            assertThat(ServerMessages.replaceInMessageField(ALLOC, in, 2, in.writerIndex() - 1, ascii("prepare.c"),
                    ascii("y"))).isNull();
            assertThat(ServerMessages.replaceInMessageField(ALLOC, in, 2, in.writerIndex() - 1, ascii("pgf_"),
                    ascii("y"))).isNull();
            // a truncated field (no NUL before the end) is not read past the end
            assertThat(ServerMessages.replaceInMessageField(ALLOC, in, 2, 2 + 12, ascii("x"), ascii("y"))).isNull();
        } finally {
            in.release();
        }
    }
}
