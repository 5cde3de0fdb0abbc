package dev.pgferry.robustness;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A fake PostgreSQL server that breaks the protocol while pgferry logs in to it, in the way the {@code database} of
 * pgferry's StartupMessage names ({@link Misbehaviour}). It speaks just enough of protocol 3.0 for that: it reads the
 * StartupMessage (pgferry sends no SSLRequest with server TLS disabled), answers as scripted, then reads until
 * pgferry hangs up. Blocking I/O, a thread per connection, as {@link FaultProxy}.
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

    private final ServerSocket listener;

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
            String database = FaultProxy.startupParams(body).get("database");
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
