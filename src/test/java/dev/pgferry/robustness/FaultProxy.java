package dev.pgferry.robustness;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fault-injecting TCP proxy between pgferry and PostgreSQL, blocking I/O with two pump threads per
 * connection. It reads the StartupMessage pgferry sends (user, database) and the BackendKeyData PostgreSQL
 * answers (pid), so faults can target one backend or one pool: reset a connection (RST), refuse new ones
 * (listener closed), add latency to the server's replies for one user.
 */
final class FaultProxy implements AutoCloseable {
    private static final String PORT_PROPERTY = "dev.pgferry.robustness.proxy-port";

    /** One port per JVM, the same whichever class loader asks (the Quarkus resource and the test class). */
    static int sharedPort() {
        synchronized (System.getProperties()) {
            String p = System.getProperty(PORT_PROPERTY);
            if (p == null) {
                try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    p = Integer.toString(s.getLocalPort());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                System.setProperty(PORT_PROPERTY, p);
            }
            return Integer.parseInt(p);
        }
    }

    /** A proxy on {@link #sharedPort()} in front of the fixture's PostgreSQL, for a test class's {@code @BeforeAll}. */
    static FaultProxy inFrontOfFixture() throws IOException {
        dev.pgferry.testing.PostgresFixture pg = dev.pgferry.testing.PostgresFixture.get();
        return new FaultProxy(sharedPort(), pg.host(), pg.port());
    }

    /** Closes {@code proxy} unless it never started, for a test class's {@code @AfterAll}. */
    static void stop(FaultProxy proxy) throws IOException {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** One proxied backend connection. */
    final class Link {
        final Socket down;
        final Socket up;
        volatile String user;
        volatile String database;
        volatile int pid;

        Link(Socket down, Socket up) {
            this.down = down;
            this.up = up;
        }

        /** Cuts both sides with a TCP reset. */
        void reset() {
            for (Socket s : new Socket[] {down, up}) {
                try {
                    s.setSoLinger(true, 0);
                    s.close();
                } catch (IOException ignored) {
                    // already gone
                }
            }
            links.remove(this);
        }
    }

    private final int port;
    private final String upstreamHost;
    private final int upstreamPort;
    final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> latencyByUser = new ConcurrentHashMap<>();
    final AtomicInteger accepted = new AtomicInteger();
    private volatile ServerSocket listener;
    private volatile boolean closed;

    FaultProxy(int port, String upstreamHost, int upstreamPort) throws IOException {
        this.port = port;
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        listen();
    }

    int port() {
        return port;
    }

    private synchronized void listen() throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 512);
        listener = ss;
        Thread t = new Thread(() -> acceptLoop(ss), "fault-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    /** Unreachable: existing connections are reset and new ones refused (nothing listens), until {@link #accept()}. */
    synchronized void refuse() throws IOException {
        refusing = true;
        ServerSocket ss = listener;
        listener = null;
        if (ss != null) {
            ss.close();
        }
        resetAll();
    }

    /** Reachable again. */
    synchronized void accept() throws IOException {
        refusing = false;
        if (listener == null) {
            listen();
        }
    }

    /** Set by {@link #refuse()}: a connection accepted before it and linked after it is reset too. */
    private volatile boolean refusing;

    void resetAll() {
        for (Link l : links.toArray(new Link[0])) {
            l.reset();
        }
    }

    /** Resets the connection of backend {@code pid}; false if no such connection passes here. */
    boolean resetPid(int pid) {
        for (Link l : links) {
            if (l.pid == pid) {
                l.reset();
                return true;
            }
        }
        return false;
    }

    /** Delays each chunk the server sends to connections of {@code user} by {@code millis} (0 to stop); the startup exchange is never delayed. */
    void latencyForUser(String user, int millis) {
        if (millis <= 0) {
            latencyByUser.remove(user);
        } else {
            latencyByUser.put(user, millis);
        }
    }

    private void acceptLoop(ServerSocket ss) {
        while (!ss.isClosed()) {
            Socket down;
            try {
                down = ss.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            Thread t = new Thread(() -> connect(down), "fault-proxy-link");
            t.setDaemon(true);
            t.start();
        }
    }

    private void connect(Socket down) {
        Socket up;
        try {
            down.setTcpNoDelay(true);
            up = new Socket();
            up.setTcpNoDelay(true);
            up.connect(new InetSocketAddress(upstreamHost, upstreamPort), 2000);
        } catch (IOException e) {
            closeQuietly(down);
            return;
        }
        Link link = new Link(down, up);
        links.add(link);
        if (refusing) {
            // accepted just before refuse(), linked after its resetAll: reset as the rest
            link.reset();
            return;
        }
        Thread back = new Thread(() -> serverToClient(link), "fault-proxy-s2c");
        back.setDaemon(true);
        back.start();
        clientToServer(link);
    }

    private void clientToServer(Link link) {
        try {
            DataInputStream in = new DataInputStream(link.down.getInputStream());
            OutputStream out = link.up.getOutputStream();
            // the first packet is pgferry's StartupMessage: length, version, then name/value pairs
            int len = in.readInt();
            byte[] body = new byte[len - 4];
            in.readFully(body);
            Map<String, String> params = startupParams(body);
            link.user = params.get("user");
            link.database = params.get("database");
            byte[] head = {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len};
            out.write(head);
            out.write(body);
            out.flush();
            pump(in, out, null);
        } catch (IOException e) {
            // closed or reset
        } finally {
            closeBoth(link);
        }
    }

    private void serverToClient(Link link) {
        try {
            DataInputStream in = new DataInputStream(link.up.getInputStream());
            OutputStream out = link.down.getOutputStream();
            // startup replies message by message until ReadyForQuery, noting the backend's pid
            while (true) {
                int type = in.readUnsignedByte();
                int len = in.readInt();
                byte[] body = new byte[len - 4];
                in.readFully(body);
                if (type == 'K') {
                    link.pid = ((body[0] & 0xff) << 24) | ((body[1] & 0xff) << 16) | ((body[2] & 0xff) << 8)
                            | (body[3] & 0xff);
                }
                out.write(type);
                out.write(new byte[] {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
                out.write(body);
                out.flush();
                if (type == 'Z' || type == 'E') {
                    break;
                }
            }
            pump(in, out, link);
        } catch (IOException e) {
            // closed or reset
        } finally {
            closeBoth(link);
        }
    }

    private void pump(InputStream in, OutputStream out, Link delayed) throws IOException {
        byte[] buf = new byte[16384];
        int n;
        while ((n = in.read(buf)) >= 0) {
            if (delayed != null) {
                delay(delayed);
            }
            out.write(buf, 0, n);
            out.flush();
        }
    }

    private void delay(Link link) {
        String user = link.user;
        Integer ms = user == null ? null : latencyByUser.get(user);
        if (ms != null) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void closeBoth(Link link) {
        links.remove(link);
        closeQuietly(link.down);
        closeQuietly(link.up);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** The name/value pairs of a StartupMessage body (after its length): protocol version, then pairs, then NUL. */
    static Map<String, String> startupParams(byte[] body) {
        Map<String, String> m = new HashMap<>();
        int i = 4;
        while (i < body.length && body[i] != 0) {
            int k = i;
            while (body[i] != 0) {
                i++;
            }
            String key = new String(body, k, i - k, StandardCharsets.UTF_8);
            int v = ++i;
            while (body[i] != 0) {
                i++;
            }
            m.put(key, new String(body, v, i - v, StandardCharsets.UTF_8));
            i++;
        }
        return m;
    }

    @Override
    public void close() throws SocketException {
        closed = true;
        try {
            refuse();
        } catch (IOException e) {
            // closing
        }
    }
}
