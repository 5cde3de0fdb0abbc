package dev.pgferry.testing;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.Md5Auth;
import dev.pgferry.auth.ScramClient;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A raw protocol-3.0 frontend on a plain socket, TCP or Unix-domain, for tests that send byte sequences no driver
 * would (a second Parse of a name, a length that lies, a startup dribbled byte by byte) to pgferry or to PostgreSQL
 * itself.
 */
public final class RawWireClient implements AutoCloseable {

    /** One backend message; {@code type == -1} ({@link #EOF}) means the server closed or reset the connection. */
    public record Msg(int type, byte[] body) {
        public static final Msg EOF = new Msg(-1, new byte[0]);

        /** Field {@code code} of an ErrorResponse/NoticeResponse ('S', 'V', 'C' = SQLSTATE, 'M' = message…), or null. */
        public String field(char code) {
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char c = (char) body[i];
                int s = ++i;
                while (body[i] != 0) {
                    i++;
                }
                if (c == code) {
                    return new String(body, s, i - s, StandardCharsets.UTF_8);
                }
                i++;
            }
            return null;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Msg m && m.type == type && Arrays.equals(m.body, body);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(body);
        }

        @Override
        public String toString() {
            return switch (type) {
                case -1 -> "EOF";
                case 'E' -> "Error[S=" + field('S') + " V=" + field('V') + " C=" + field('C') + " M=" + field('M')
                        + " F=" + field('F') + " R=" + field('R') + "]";
                case 'Z' -> "Ready(" + (char) body[0] + ")";
                case 'D' -> "DataRow" + Arrays.toString(body);
                case 'C' -> "Complete(" + new String(body, 0, body.length - 1, StandardCharsets.UTF_8) + ")";
                default -> (char) type + "(" + body.length + ")";
            };
        }
    }

    /** One of the two: TCP or a Unix-domain socket. */
    private final Socket socket;
    private final UnixSocketStreams unix;
    private final DataInputStream in;
    private final OutputStream out;
    private byte[] backendKeyData;
    /** The ParameterStatus messages of the login, in order. */
    private final List<Msg> loginParameterStatus = new ArrayList<>();
    /** The protocol version {@link #logIn} asks for: 196608 (3.0) unless {@link #protocol} says otherwise. */
    private int protocol = PROTOCOL_3_0;

    public static final int PROTOCOL_3_0 = 196608;
    /** Protocol 3.2 (PostgreSQL 18): the same messages, and a BackendKeyData key longer than 4 bytes. */
    public static final int PROTOCOL_3_2 = 196610;

    private RawWireClient(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setTcpNoDelay(true);
        unix = null;
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    private RawWireClient(Path socketFile) throws IOException {
        socket = null;
        unix = UnixSocketStreams.connect(socketFile);
        in = new DataInputStream(unix.in());
        out = unix.out();
    }

    /** A TCP connection, nothing sent yet; reads wait without limit until {@link #timeout} says otherwise. */
    public static RawWireClient connect(String host, int port) throws IOException {
        return new RawWireClient(host, port);
    }

    /**
     * A connection to the Unix-domain socket {@code socketFile} ({@code <dir>/.s.PGSQL.<port>}), nothing sent yet;
     * reads wait without limit until {@link #timeout} says otherwise.
     */
    public static RawWireClient connect(Path socketFile) throws IOException {
        return new RawWireClient(socketFile);
    }

    /**
     * Connects, sends a StartupMessage with {@code user}, {@code database} and the {@code parameters} (name, value…)
     * and logs in with SCRAM-SHA-256 or MD5, as the server asks, each read waiting at most {@code loginTimeoutMillis};
     * returns once the first ReadyForQuery arrived, with that timeout still set.
     */
    public static RawWireClient login(String host, int port, int loginTimeoutMillis, String user, String password,
            String database, String... parameters) throws IOException {
        RawWireClient s = connect(host, port);
        s.timeout(loginTimeoutMillis);
        return s.logIn(user, password, database, parameters);
    }

    /** As {@link #login(String, int, int, String, String, String, String...)}, on the Unix-domain socket {@code socketFile}. */
    public static RawWireClient login(Path socketFile, int loginTimeoutMillis, String user, String password,
            String database, String... parameters) throws IOException {
        RawWireClient s = connect(socketFile);
        s.timeout(loginTimeoutMillis);
        return s.logIn(user, password, database, parameters);
    }

    /**
     * On a connection where nothing but an SSLRequest or GSSENCRequest answered 'N' was sent: sends the StartupMessage
     * and logs in with SCRAM-SHA-256 or MD5, as the server asks; returns once the first ReadyForQuery arrived (the
     * BackendKeyData kept for {@link #backendKeyData()}), closing the connection when the login fails.
     */
    public RawWireClient logIn(String user, String password, String database, String... parameters) throws IOException {
        try {
            return authenticate(user, password, database, parameters);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private RawWireClient authenticate(String user, String password, String database, String... parameters)
            throws IOException {
        String[] nameValues = new String[4 + parameters.length];
        nameValues[0] = "user";
        nameValues[1] = user;
        nameValues[2] = "database";
        nameValues[3] = database;
        System.arraycopy(parameters, 0, nameValues, 4, parameters.length);
        byte[] startup = startupMessage(nameValues);
        setInt(startup, 4, protocol);
        send(startup);
        ScramClient scram = ScramClient.withPassword(user, password);
        try {
            while (true) {
                Msg m = read();
                if (m.type == 'R') {
                    int code = getInt(m.body, 0);
                    byte[] data = Arrays.copyOfRange(m.body, 4, m.body.length);
                    if (code == 10) {
                        byte[] first = scram.clientFirstMessage();
                        ByteArrayOutputStream r = new ByteArrayOutputStream();
                        r.writeBytes("SCRAM-SHA-256".getBytes(StandardCharsets.US_ASCII));
                        r.write(0);
                        writeInt(r, first.length);
                        r.writeBytes(first);
                        send(message('p', r.toByteArray()));
                    } else if (code == 11) {
                        send(message('p', scram.handleServerFirst(data)));
                    } else if (code == 12) {
                        scram.verifyServerFinal(data);
                    } else if (code == 5) {
                        send(message('p', concat(Md5Auth.response(password, user, data), new byte[] {0})));
                    } else if (code != 0) {
                        throw new IOException("unexpected authentication request " + code);
                    }
                } else if (m.type == 'K') {
                    backendKeyData = m.body;
                } else if (m.type == 'S') {
                    loginParameterStatus.add(m);
                } else if (m.type == 'Z') {
                    return this;
                } else if (m.type == 'E' || m.type == -1) {
                    throw new IOException("login failed: " + m);
                }
            }
        } catch (AuthException e) {
            throw new IOException(e);
        }
    }

    /** The protocol version the StartupMessage of {@link #logIn} carries (3.0 unless set). */
    public RawWireClient protocol(int version) {
        this.protocol = version;
        return this;
    }

    /** How long a read waits before {@link SocketTimeoutException}; 0 waits without limit. */
    public RawWireClient timeout(int millis) throws SocketException {
        if (socket != null) {
            socket.setSoTimeout(millis);
        } else {
            unix.timeout(millis);
        }
        return this;
    }

    /** The local port of a TCP connection (what the server sees as the client's port); -1 on a Unix socket. */
    public int localPort() {
        return socket == null ? -1 : socket.getLocalPort();
    }

    /** The ParameterStatus messages {@link #logIn} received, in order. */
    public List<Msg> loginParameterStatus() {
        return loginParameterStatus;
    }

    /** The body of the BackendKeyData received at login (process id, then the secret key); null before. */
    public byte[] backendKeyData() {
        return backendKeyData;
    }

    // ---- frontend messages ----------------------------------------------------------------------------

    /** A protocol-3.0 StartupMessage with the name/value pairs given. */
    public static byte[] startupMessage(String... nameValues) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt(b, 0);
        writeInt(b, 196608);
        for (String v : nameValues) {
            b.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }
        b.write(0);
        byte[] startup = b.toByteArray();
        setInt(startup, 0, startup.length);
        return startup;
    }

    /** SSLRequest: length 8, code 80877103. */
    public static byte[] sslRequest() {
        byte[] a = new byte[8];
        setInt(a, 0, 8);
        setInt(a, 4, 80877103);
        return a;
    }

    /** CancelRequest for the process id and key of a BackendKeyData body ({@link #backendKeyData()}). */
    /**
     * Sends a CancelRequest carrying {@code backendKeyData} (process id, then key) on a new connection to
     * {@code host:port} and returns what came back before the server closed it (PostgreSQL never answers one, it just
     * closes: {@link Msg#EOF}); waits at most 5 s.
     */
    public static Msg cancel(String host, int port, byte[] backendKeyData) throws IOException {
        try (RawWireClient c = connect(host, port).timeout(5_000)) {
            c.send(cancelRequest(backendKeyData));
            return c.read();
        }
    }

    /** The columns of the first DataRow among {@code messages}, as text (null for NULL). */
    public static List<String> firstRow(List<Msg> messages) {
        byte[] b = messages.stream().filter(m -> m.type() == 'D').findFirst().orElseThrow().body();
        int n = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
        List<String> values = new ArrayList<>(n);
        int at = 2;
        for (int i = 0; i < n; i++) {
            int len = ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
            at += 4;
            values.add(len < 0 ? null : new String(b, at, len, StandardCharsets.UTF_8));
            at += Math.max(len, 0);
        }
        return values;
    }

    /** The first column of the first DataRow among {@code messages}. */
    public static String firstValue(List<Msg> messages) {
        return firstRow(messages).get(0);
    }

    public static byte[] cancelRequest(byte[] backendKeyData) {
        byte[] a = new byte[8 + backendKeyData.length];
        setInt(a, 0, a.length);
        setInt(a, 4, 80877102);
        System.arraycopy(backendKeyData, 0, a, 8, backendKeyData.length);
        return a;
    }

    public static byte[] parse(String name, String sql) {
        return message('P', concat(cstring(name), cstring(sql), new byte[] {0, 0}));
    }

    /** Bind of {@code statement} to the unnamed portal, no parameters, text results. */
    public static byte[] bind(String statement) {
        return message('B', concat(cstring(""), cstring(statement), new byte[] {0, 0, 0, 0, 0, 0}));
    }

    /** Execute of the unnamed portal, all rows. */
    public static byte[] execute() {
        return message('E', concat(cstring(""), new byte[] {0, 0, 0, 0}));
    }

    public static byte[] closeStatement(String name) {
        return message('C', concat(new byte[] {'S'}, cstring(name)));
    }

    public static byte[] closePortal(String name) {
        return message('C', concat(new byte[] {'P'}, cstring(name)));
    }

    public static byte[] describeStatement(String name) {
        return message('D', concat(new byte[] {'S'}, cstring(name)));
    }

    public static byte[] sync() {
        return message('S', new byte[0]);
    }

    public static byte[] query(String sql) {
        return message('Q', cstring(sql));
    }

    /** A typed message with a correct length. */
    public static byte[] message(int type, byte[] body) {
        byte[] a = new byte[5 + body.length];
        a[0] = (byte) type;
        setInt(a, 1, 4 + body.length);
        System.arraycopy(body, 0, a, 5, body.length);
        return a;
    }

    public static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    public static void setInt(byte[] a, int at, int v) {
        a[at] = (byte) (v >>> 24);
        a[at + 1] = (byte) (v >>> 16);
        a[at + 2] = (byte) (v >>> 8);
        a[at + 3] = (byte) v;
    }

    private static void writeInt(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }

    private static int getInt(byte[] a, int at) {
        return ((a[at] & 0xff) << 24) | ((a[at + 1] & 0xff) << 16) | ((a[at + 2] & 0xff) << 8) | (a[at + 3] & 0xff);
    }

    // ---- I/O --------------------------------------------------------------------------------------------

    /** Sends the byte sequences in one write, as a pipelining client would. */
    public void send(byte[]... messages) throws IOException {
        out.write(concat(messages));
        out.flush();
    }

    /** One byte, as the answer to SSLRequest or GSSENCRequest; -1 when the server closed the connection. */
    public int readByte() throws IOException {
        return in.read();
    }

    /**
     * What answers an SSLRequest or GSSENCRequest: its one byte as a message without a body ('N', 'S', 'G'), or the
     * ErrorResponse sent instead (PostgreSQL refuses a request it no longer takes with one); {@link Msg#EOF} when the
     * server closed the connection.
     */
    public Msg readRequestAnswer() throws IOException {
        int b = in.read();
        if (b == -1) {
            return Msg.EOF;
        }
        if (b != 'E') {
            return new Msg(b, new byte[0]);
        }
        byte[] body = new byte[in.readInt() - 4];
        in.readFully(body);
        return new Msg(b, body);
    }

    /**
     * Everything the server sends from now until it closes the connection, or until a read waits longer than the
     * {@link #timeout} ("open"), written down by {@link ServerReply#read}: "closed" alone when nothing came.
     */
    public String reply() throws IOException {
        return ServerReply.read(in);
    }

    /** The next message; {@link Msg#EOF} when the server closed or reset the connection. */
    public Msg read() throws IOException {
        try {
            int type = in.readUnsignedByte();
            int len = in.readInt();
            if (len < 4 || len > 1 << 30) {
                throw new IOException("server sent length " + len + " for type " + (char) type);
            }
            byte[] body = new byte[len - 4];
            in.readFully(body);
            return new Msg(type, body);
        } catch (EOFException e) {
            return Msg.EOF;
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return Msg.EOF;
            }
            throw e;
        }
    }

    /** Every message up to and including the next ReadyForQuery (or end of stream). */
    public List<Msg> readUntilReady() throws IOException {
        List<Msg> all = new ArrayList<>();
        while (true) {
            Msg m = read();
            all.add(m);
            if (m.type == 'Z' || m.type == -1) {
                return all;
            }
        }
    }

    /** Sends the messages and reads up to {@code readies} ReadyForQuery messages. */
    public List<Msg> exchange(int readies, byte[]... messages) throws IOException {
        send(messages);
        List<Msg> all = new ArrayList<>();
        for (int i = 0; i < readies; i++) {
            all.addAll(readUntilReady());
        }
        return all;
    }

    /** Closes the socket without a Terminate, as a client that crashed or lost its network would. */
    public void drop() {
        try {
            if (socket != null) {
                socket.close();
            } else {
                unix.close();
            }
        } catch (IOException ignored) {
            // closing
        }
    }

    /** Sends Terminate if the connection still takes it, then closes. */
    @Override
    public void close() {
        try {
            send(message('X', new byte[0]));
        } catch (IOException ignored) {
            // the server closed first: closing anyway
        }
        drop();
    }
}
