package dev.pgferry.robustness;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.ScramClient;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** A raw PostgreSQL wire client for tests that must send what no driver would. */
final class Wire implements AutoCloseable {
    static final String HOST = "127.0.0.1";
    /** Not the default 16432: tests of other worktrees on this machine bind that one. */
    static final int PGFERRY_PORT = 16532;

    /** One backend message; {@code type == -1} means the server closed the connection. */
    record Msg(int type, byte[] body) {
        static final Msg EOF = new Msg(-1, new byte[0]);

        /** Field {@code code} of an ErrorResponse/NoticeResponse ('C' = SQLSTATE, 'M' = message). */
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
        public String toString() {
            if (type == -1) {
                return "EOF";
            }
            if (type == 'E') {
                return "ErrorResponse " + field('C') + " " + field('M');
            }
            return (char) type + "(" + body.length + ")";
        }
    }

    final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    Wire(int port) throws IOException {
        socket = new Socket(HOST, port);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    static Wire connect() throws IOException {
        return new Wire(PGFERRY_PORT);
    }

    /** Logs in as postgres/secret to {@code database} with SCRAM-SHA-256; returns when ReadyForQuery arrives. */
    static Wire login(String database) throws IOException {
        Wire w = connect();
        w.socket.setSoTimeout(10_000);
        w.out.write(startupMessage("postgres", database));
        w.out.flush();
        ScramClient scram = ScramClient.withPassword("postgres", "secret");
        try {
            while (true) {
                Msg m = w.read();
                if (m.type == 'R') {
                    int code = ((m.body[0] & 0xff) << 24) | ((m.body[1] & 0xff) << 16) | ((m.body[2] & 0xff) << 8)
                            | (m.body[3] & 0xff);
                    byte[] data = java.util.Arrays.copyOfRange(m.body, 4, m.body.length);
                    if (code == 10) {
                        byte[] first = scram.clientFirstMessage();
                        ByteArrayOutputStream b = new ByteArrayOutputStream();
                        b.write("SCRAM-SHA-256".getBytes(StandardCharsets.US_ASCII));
                        b.write(0);
                        writeInt(b, first.length);
                        b.write(first);
                        w.send('p', b.toByteArray());
                    } else if (code == 11) {
                        w.send('p', scram.handleServerFirst(data));
                    } else if (code == 12) {
                        scram.verifyServerFinal(data);
                    } else if (code != 0) {
                        throw new IOException("unexpected authentication request " + code);
                    }
                } else if (m.type == 'Z') {
                    w.socket.setSoTimeout(0);
                    return w;
                } else if (m.type == 'E' || m.type == -1) {
                    throw new IOException("login failed: " + m);
                }
            }
        } catch (AuthException e) {
            throw new IOException(e);
        }
    }

    static byte[] startupMessage(String user, String database) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt(b, 0);
        writeInt(b, 196608);
        for (String s : new String[] {"user", user, "database", database, "application_name", "robustness"}) {
            b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }
        b.write(0);
        byte[] a = b.toByteArray();
        setInt(a, 0, a.length);
        return a;
    }

    /** A typed message with a correct length. */
    static byte[] message(int type, byte[] body) {
        byte[] a = new byte[5 + body.length];
        a[0] = (byte) type;
        setInt(a, 1, 4 + body.length);
        System.arraycopy(body, 0, a, 5, body.length);
        return a;
    }

    static byte[] query(String sql) {
        return message('Q', cstring(sql));
    }

    static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] a = new byte[b.length + 1];
        System.arraycopy(b, 0, a, 0, b.length);
        return a;
    }

    void send(int type, byte[] body) throws IOException {
        out.write(message(type, body));
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next message; {@link Msg#EOF} when the server closed or reset the connection. */
    Msg read() throws IOException {
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

    /** Reads until ReadyForQuery or end of stream; returns every message read. */
    java.util.List<Msg> readUntilReady() throws IOException {
        java.util.List<Msg> all = new java.util.ArrayList<>();
        while (true) {
            Msg m = read();
            all.add(m);
            if (m.type == 'Z' || m.type == -1) {
                return all;
            }
        }
    }

    static void writeInt(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }

    static void setInt(byte[] a, int at, int v) {
        a[at] = (byte) (v >>> 24);
        a[at + 1] = (byte) (v >>> 16);
        a[at + 2] = (byte) (v >>> 8);
        a[at + 3] = (byte) v;
    }

    /** A pgjdbc connection through pgferry (pgjdbc's Driver directly: DriverManager hides it after Quarkus ran). */
    static java.sql.Connection jdbc(String user, String password, String database) throws java.sql.SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "30");
        return new org.postgresql.Driver().connect("jdbc:postgresql://" + HOST + ":" + PGFERRY_PORT + "/" + database, p);
    }

    static java.sql.Connection jdbc(String database) throws java.sql.SQLException {
        return jdbc("postgres", "secret", database);
    }

    static Map<String, String> none() {
        return new HashMap<>();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
