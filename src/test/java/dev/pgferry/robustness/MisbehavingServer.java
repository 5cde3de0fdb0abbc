package dev.pgferry.robustness;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake PostgreSQL server that breaks the protocol while pgferry logs in to it, in the way the {@code database} of
 * pgferry's StartupMessage names ({@link Misbehaviour}). It speaks just enough of protocol 3.0 for that: it reads the
 * StartupMessage (pgferry sends no SSLRequest with server TLS disabled), answers as scripted, then reads until
 * pgferry hangs up. Blocking I/O, a thread per connection, as {@link FaultProxy}.
 *
 * <p>Database {@link #CANCEL_NEVER_CLOSED} is served instead: a login without a password, simple queries answered
 * with one row, and a query containing {@code pg_sleep} left running until a CancelRequest with its backend's key
 * comes, which stops it with 57014 as PostgreSQL would; but the connection that carried the CancelRequest is never
 * closed by this server, which PostgreSQL does once it has signalled the backend.
 */
final class MisbehavingServer implements AutoCloseable {
    private static final int AUTH_SASL = 10;
    private static final int AUTH_SASL_CONTINUE = 11;

    /** What the server does after the StartupMessage; {@link #database} is the database name that asks for it. */
    enum Misbehaviour {
        /** An Authentication message whose length field says 2, less than the length field itself. */
        LENGTH_SHORTER_THAN_ITSELF("bad_length"),
        /** A DataRow before any authentication: not one of the messages a server may send during startup. */
        DATA_ROW_DURING_STARTUP("data_row_first"),
        /** AuthenticationSASL, then, once pgferry answered with SASLInitialResponse, AuthenticationSASL again. */
        DUPLICATE_SASL_REQUEST("duplicate_sasl"),
        /** AuthenticationSASLContinue with a server-first-message, without AuthenticationSASL before it. */
        SASL_CONTINUE_BEFORE_SASL("sasl_continue_first");

        final String database;

        Misbehaviour(String database) {
            this.database = database;
        }
    }

    /** The database whose server never closes a cancel connection (see the class comment). */
    static final String CANCEL_NEVER_CLOSED = "cancel_never_closed";
    private static final int CANCEL_REQUEST_CODE = 80877102;

    /** A logged-in backend of {@link #CANCEL_NEVER_CLOSED}: its key, and whether a pg_sleep query runs on it. */
    private record Backend(int pid, int key, OutputStream out, AtomicBoolean sleeping) {}

    private final ServerSocket listener;
    private final Map<Integer, Backend> backends = new ConcurrentHashMap<>();
    private final AtomicInteger nextPid = new AtomicInteger(70_000);

    MisbehavingServer() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "misbehaving-server-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                return;
            }
            Thread t = new Thread(() -> serve(s), "misbehaving-server-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try (s) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            int len = in.readInt();
            byte[] body = new byte[len - 4];
            in.readFully(body);
            if (len == 16 && readInt(body, 0) == CANCEL_REQUEST_CODE) {
                cancel(readInt(body, 4), readInt(body, 8));
            }
            String database = len == 16 ? null : FaultProxy.startupParams(body).get("database");
            if (CANCEL_NEVER_CLOSED.equals(database)) {
                serveQueries(in, out);
                return;
            }
            for (Misbehaviour m : Misbehaviour.values()) {
                if (m.database.equals(database)) {
                    misbehave(m, in, out);
                }
            }
            // whatever pgferry does now, it sends nothing a server would need to answer: read until it hangs up
            while (in.read() >= 0) {
                // drained
            }
        } catch (IOException e) {
            // pgferry closed or reset the connection
        }
    }

    /** Stops the pg_sleep of backend {@code pid} if the key is its own; the cancel connection stays open. */
    private void cancel(int pid, int key) throws IOException {
        Backend b = backends.get(pid);
        if (b != null && b.key == key && b.sleeping.compareAndSet(true, false)) {
            synchronized (b.out) {
                b.out.write(message('E', concat(field('S', "ERROR"), field('V', "ERROR"), field('C', "57014"),
                        field('M', "canceling statement due to user request"), new byte[] {0})));
                b.out.write(message('Z', new byte[] {'I'}));
                b.out.flush();
            }
        }
    }

    /** A backend of {@link #CANCEL_NEVER_CLOSED}, from AuthenticationOk to Terminate. */
    private void serveQueries(DataInputStream in, OutputStream out) throws IOException {
        int pid = nextPid.incrementAndGet();
        Backend b = new Backend(pid, pid * 31, out, new AtomicBoolean());
        backends.put(pid, b);
        try {
            ByteArrayOutputStream hello = new ByteArrayOutputStream();
            hello.writeBytes(message('R', new byte[4]));
            for (String[] kv : new String[][] {{"server_version", "15.0"}, {"server_encoding", "UTF8"},
                    {"client_encoding", "UTF8"}, {"DateStyle", "ISO, MDY"}, {"integer_datetimes", "on"},
                    {"standard_conforming_strings", "on"}, {"TimeZone", "UTC"}, {"application_name", ""}}) {
                hello.writeBytes(message('S', concat(cstring(kv[0]), cstring(kv[1]))));
            }
            ByteArrayOutputStream key = new ByteArrayOutputStream();
            writeInt(key, b.pid);
            writeInt(key, b.key);
            hello.writeBytes(message('K', key.toByteArray()));
            hello.writeBytes(message('Z', new byte[] {'I'}));
            synchronized (out) {
                out.write(hello.toByteArray());
                out.flush();
            }
            while (true) {
                int type = in.read();
                if (type < 0 || type == 'X') {
                    return;
                }
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                if (type != 'Q') {
                    continue; // the tests send simple queries only
                }
                String sql = new String(body, 0, body.length - 1, StandardCharsets.UTF_8);
                if (sql.contains("pg_sleep")) {
                    b.sleeping.set(true); // answered by the cancel
                    continue;
                }
                ByteArrayOutputStream r = new ByteArrayOutputStream();
                if (sql.isBlank()) {
                    r.writeBytes(message('I', new byte[0]));
                } else {
                    // RowDescription: one text column, then a row naming this backend
                    ByteArrayOutputStream desc = new ByteArrayOutputStream();
                    desc.write(0);
                    desc.write(1);
                    desc.writeBytes(cstring("?column?"));
                    writeInt(desc, 0);
                    desc.write(0);
                    desc.write(0);
                    writeInt(desc, 25);
                    desc.write(0xff);
                    desc.write(0xff);
                    writeInt(desc, -1);
                    desc.write(0);
                    desc.write(0);
                    r.writeBytes(message('T', desc.toByteArray()));
                    byte[] value = ("fake " + pid).getBytes(StandardCharsets.UTF_8);
                    ByteArrayOutputStream row = new ByteArrayOutputStream();
                    row.write(0);
                    row.write(1);
                    writeInt(row, value.length);
                    row.writeBytes(value);
                    r.writeBytes(message('D', row.toByteArray()));
                    r.writeBytes(message('C', cstring("SELECT 1")));
                }
                r.writeBytes(message('Z', new byte[] {'I'}));
                synchronized (out) {
                    out.write(r.toByteArray());
                    out.flush();
                }
            }
        } finally {
            backends.remove(pid);
        }
    }

    private static byte[] field(char code, String value) {
        return concat(new byte[] {(byte) code}, cstring(value));
    }

    private static byte[] cstring(String s) {
        return concat(s.getBytes(StandardCharsets.UTF_8), new byte[] {0});
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private static int readInt(byte[] a, int at) {
        return ((a[at] & 0xff) << 24) | ((a[at + 1] & 0xff) << 16) | ((a[at + 2] & 0xff) << 8) | (a[at + 3] & 0xff);
    }

    private static void misbehave(Misbehaviour m, DataInputStream in, OutputStream out) throws IOException {
        switch (m) {
            case LENGTH_SHORTER_THAN_ITSELF -> out.write(new byte[] {'R', 0, 0, 0, 2});
            case DATA_ROW_DURING_STARTUP -> out.write(message('D', new byte[] {0, 0}));
            case DUPLICATE_SASL_REQUEST -> {
                out.write(saslRequest());
                out.flush();
                int type = in.readUnsignedByte();
                if (type != 'p') {
                    throw new IOException("expected SASLInitialResponse, got message type " + type);
                }
                in.readFully(new byte[in.readInt() - 4]);
                out.write(saslRequest());
            }
            case SASL_CONTINUE_BEFORE_SASL -> {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                writeInt(b, AUTH_SASL_CONTINUE);
                b.writeBytes("r=nonce,s=c2FsdA==,i=4096".getBytes(StandardCharsets.US_ASCII));
                out.write(message('R', b.toByteArray()));
            }
        }
        out.flush();
    }

    /** AuthenticationSASL offering SCRAM-SHA-256 only. */
    private static byte[] saslRequest() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt(b, AUTH_SASL);
        b.writeBytes("SCRAM-SHA-256".getBytes(StandardCharsets.US_ASCII));
        b.write(0);
        b.write(0);
        return message('R', b.toByteArray());
    }

    private static byte[] message(int type, byte[] body) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(5 + body.length);
        b.write(type);
        writeInt(b, 4 + body.length);
        b.writeBytes(body);
        return b.toByteArray();
    }

    private static void writeInt(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
