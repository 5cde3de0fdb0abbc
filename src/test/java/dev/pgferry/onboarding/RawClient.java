package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.ScramClient;
import dev.pgferry.protocol.WireBytes;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A frontend on a plain {@link Socket} that writes exactly the bytes a test gives it and reads backend
 * messages one at a time: for startup cases no driver would ever send.
 */
final class RawClient implements AutoCloseable {

    /** One backend message: its type and body (the length field not included). */
    record Message(char type, byte[] body) {
        int int32(int offset) {
            return ((body[offset] & 0xff) << 24) | ((body[offset + 1] & 0xff) << 16) | ((body[offset + 2] & 0xff) << 8)
                    | (body[offset + 3] & 0xff);
        }

        /** The raw bytes as they came on the wire. */
        byte[] wire() {
            return WireBytes.message(type, body);
        }

        /** Fields of an ErrorResponse or NoticeResponse, in order. */
        Map<Character, String> fields() {
            Map<Character, String> f = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                int nul = i + 1;
                while (body[nul] != 0) {
                    nul++;
                }
                f.put((char) body[i], new String(body, i + 1, nul - i - 1, StandardCharsets.UTF_8));
                i = nul + 1;
            }
            return f;
        }

        /** Name and value of a ParameterStatus. */
        String[] parameter() {
            String s = new String(body, StandardCharsets.UTF_8);
            String[] parts = s.split("\0", -1);
            return new String[] {parts[0], parts[1]};
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static RawClient connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(5_000);
        s.setTcpNoDelay(true);
        return new RawClient(s);
    }

    RawClient send(byte[]... chunks) throws IOException {
        for (byte[] c : chunks) {
            out.write(c);
        }
        out.flush();
        return this;
    }

    /** A single byte answer (SSLRequest, GSSENCRequest). */
    char readByte() throws IOException {
        int b = in.read();
        assertThat(b).as("a one-byte answer, not end of stream").isNotNegative();
        return (char) b;
    }

    Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int len = in.readInt();
        assertThat(len).as("length of message '%s'", type).isBetween(4, 1 << 20);
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    Message expect(char type) throws IOException {
        Message m = read();
        assertThat(m.type()).as("message type (fields %s)", m.type() == 'E' ? m.fields() : "").isEqualTo(type);
        return m;
    }

    /** Reads until ReadyForQuery; returns everything read, ReadyForQuery last. */
    List<Message> readUntilReady() throws IOException {
        List<Message> all = new ArrayList<>();
        while (true) {
            Message m = read();
            all.add(m);
            if (m.type() == 'E' && "FATAL".equals(m.fields().get('S'))) {
                throw new AssertionError("FATAL during login: " + m.fields());
            }
            if (m.type() == 'Z') {
                return all;
            }
        }
    }

    /**
     * The rest of a successful login after AuthenticationOk, checked for order: one or more ParameterStatus, exactly one
     * BackendKeyData, then ReadyForQuery 'I', and nothing else in between. Returns those messages.
     */
    List<Message> readWelcome() throws IOException {
        List<Message> welcome = readUntilReady();
        String types = welcome.stream().map(m -> String.valueOf(m.type())).collect(Collectors.joining());
        assertThat(types).as("ParameterStatus+, BackendKeyData, ReadyForQuery").matches("S+KZ");
        assertThat(welcome.get(welcome.size() - 1).body()).as("ReadyForQuery status").containsExactly('I');
        return welcome;
    }

    /** AuthenticationOk: 'R', length 8, code 0. */
    void expectAuthenticationOk() throws IOException {
        assertThat(expect('R').wire()).as("AuthenticationOk").containsExactly(WireBytes.message('R', new byte[4]));
    }

    /** The exact bytes of a FATAL ErrorResponse: 'E', length, S and V FATAL, C, M, D if not null, terminator. */
    static byte[] fatal(String sqlState, String message, String detail) {
        WireBytes fields = WireBytes.create().byte1('S').cstring("FATAL").byte1('V').cstring("FATAL")
                .byte1('C').cstring(sqlState).byte1('M').cstring(message);
        if (detail != null) {
            fields.byte1('D').cstring(detail);
        }
        return WireBytes.message('E', fields.byte1(0).toArray());
    }

    /** The next message is exactly this FATAL ErrorResponse (no detail), and the server then closes the socket. */
    void assertRefused(String sqlState, String message) throws IOException {
        assertRefused(sqlState, message, null);
    }

    /** The next message is exactly this FATAL ErrorResponse, and the server then closes the socket within 2 s. */
    void assertRefused(String sqlState, String message, String detail) throws IOException {
        Message error = read();
        assertThat(error.type()).isEqualTo('E');
        Map<Character, String> expected = new LinkedHashMap<>();
        expected.put('S', "FATAL");
        expected.put('V', "FATAL");
        expected.put('C', sqlState);
        expected.put('M', message);
        if (detail != null) {
            expected.put('D', detail);
        }
        assertThat(error.fields()).containsExactlyEntriesOf(expected);
        assertThat(error.wire()).containsExactly(fatal(sqlState, message, detail));
        assertThat(closedWithin(Duration.ofSeconds(2))).as("socket closed after the error").isTrue();
    }

    /** True if the server closed the connection within {@code within}: end of stream (or a reset) with nothing more sent. */
    boolean closedWithin(Duration within) throws IOException {
        socket.setSoTimeout((int) within.toMillis());
        try {
            int b = in.read();
            assertThat(b).as("no more bytes after the error").isEqualTo(-1);
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException | EOFException e) {
            return true; // reset by peer: closed as well
        }
    }

    /** A SCRAM-SHA-256 login after the StartupMessage was sent, from AuthenticationSASL up to AuthenticationOk. */
    void scramLogin(String user, String password) throws IOException, AuthException {
        Message sasl = expect('R');
        assertThat(sasl.int32(0)).as("AuthenticationSASL").isEqualTo(10);
        ScramClient scram = ScramClient.withPassword(user, password);
        byte[] first = scram.clientFirstMessage();
        send(WireBytes.message('p', WireBytes.create().cstring("SCRAM-SHA-256").int32(first.length).bytes(first)
                .toArray()));
        Message cont = expect('R');
        assertThat(cont.int32(0)).as("AuthenticationSASLContinue").isEqualTo(11);
        byte[] serverFirst = java.util.Arrays.copyOfRange(cont.body(), 4, cont.body().length);
        send(WireBytes.message('p', scram.handleServerFirst(serverFirst)));
        Message fin = expect('R');
        assertThat(fin.int32(0)).as("AuthenticationSASLFinal").isEqualTo(12);
        scram.verifyServerFinal(java.util.Arrays.copyOfRange(fin.body(), 4, fin.body().length));
        Message ok = expect('R');
        assertThat(ok.int32(0)).as("AuthenticationOk").isZero();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
