package dev.pgferry.prepared;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.ScramClient;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A raw protocol-3.0 client logged in with SCRAM-SHA-256, to send byte sequences no driver would (a second
 * Parse of a name) to pgferry and to PostgreSQL itself and compare what each answers.
 */
final class RawSession implements AutoCloseable {
    /** One backend message; {@code type == -1} means the server closed the connection. */
    record Msg(int type, byte[] body) {
        /** Field {@code code} of an ErrorResponse ('S', 'V', 'C', 'M'…), or null. */
        String field(char code) {
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
                default -> String.valueOf((char) type);
            };
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawSession(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(20_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Connects and logs in; returns once the first ReadyForQuery arrived. */
    static RawSession login(String host, int port, String user, String password, String database) throws IOException {
        RawSession s = new RawSession(host, port);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt(b, 0);
        writeInt(b, 196608);
        for (String v : new String[] {"user", user, "database", database}) {
            b.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }
        b.write(0);
        byte[] startup = b.toByteArray();
        setInt(startup, 0, startup.length);
        s.out.write(startup);
        s.out.flush();
        ScramClient scram = ScramClient.withPassword(user, password);
        try {
            while (true) {
                Msg m = s.read();
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
                        s.send(message('p', r.toByteArray()));
                    } else if (code == 11) {
                        s.send(message('p', scram.handleServerFirst(data)));
                    } else if (code == 12) {
                        scram.verifyServerFinal(data);
                    } else if (code != 0) {
                        throw new IOException("unexpected authentication request " + code);
                    }
                } else if (m.type == 'Z') {
                    return s;
                } else if (m.type == 'E' || m.type == -1) {
                    throw new IOException("login failed: " + m);
                }
            }
        } catch (AuthException e) {
            throw new IOException(e);
        }
    }

    // ---- frontend messages ----------------------------------------------------------------------------

    static byte[] parse(String name, String sql) {
        return message('P', concat(cstring(name), cstring(sql), new byte[] {0, 0}));
    }

    /** Bind of {@code statement} to the unnamed portal, no parameters, text results. */
    static byte[] bind(String statement) {
        return message('B', concat(cstring(""), cstring(statement), new byte[] {0, 0, 0, 0, 0, 0}));
    }

    /** Execute of the unnamed portal, all rows. */
    static byte[] execute() {
        return message('E', concat(cstring(""), new byte[] {0, 0, 0, 0}));
    }

    static byte[] closeStatement(String name) {
        return message('C', concat(new byte[] {'S'}, cstring(name)));
    }

    static byte[] closePortal(String name) {
        return message('C', concat(new byte[] {'P'}, cstring(name)));
    }

    static byte[] describeStatement(String name) {
        return message('D', concat(new byte[] {'S'}, cstring(name)));
    }

    static byte[] sync() {
        return message('S', new byte[0]);
    }

    static byte[] query(String sql) {
        return message('Q', cstring(sql));
    }

    // ---- I/O --------------------------------------------------------------------------------------------

    /** Sends the messages in one write, as a pipelining client would. */
    void send(byte[]... messages) throws IOException {
        out.write(concat(messages));
        out.flush();
    }

    Msg read() throws IOException {
        try {
            int type = in.readUnsignedByte();
            int len = in.readInt();
            byte[] body = new byte[len - 4];
            in.readFully(body);
            return new Msg(type, body);
        } catch (EOFException e) {
            return new Msg(-1, new byte[0]);
        }
    }

    /** Every message up to and including the next ReadyForQuery (or end of stream). */
    List<Msg> untilReady() throws IOException {
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
    List<Msg> exchange(int readies, byte[]... messages) throws IOException {
        send(messages);
        List<Msg> all = new ArrayList<>();
        for (int i = 0; i < readies; i++) {
            all.addAll(untilReady());
        }
        return all;
    }

    @Override
    public void close() {
        try {
            out.write(message('X', new byte[0]));
            out.flush();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    static byte[] message(int type, byte[] body) {
        byte[] a = new byte[5 + body.length];
        a[0] = (byte) type;
        setInt(a, 1, 4 + body.length);
        System.arraycopy(body, 0, a, 5, body.length);
        return a;
    }

    static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private static void writeInt(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }

    private static void setInt(byte[] a, int at, int v) {
        a[at] = (byte) (v >>> 24);
        a[at + 1] = (byte) (v >>> 16);
        a[at + 2] = (byte) (v >>> 8);
        a[at + 3] = (byte) v;
    }

    private static int getInt(byte[] a, int at) {
        return ((a[at] & 0xff) << 24) | ((a[at + 1] & 0xff) << 16) | ((a[at + 2] & 0xff) << 8) | (a[at + 3] & 0xff);
    }
}
