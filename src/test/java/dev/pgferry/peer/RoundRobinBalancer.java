package dev.pgferry.peer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Service's load balancing in miniature, as kube-proxy does it: each new TCP connection goes to the next of the
 * endpoints in force, and bytes are copied both ways until either side closes. The test takes an endpoint out (a pod
 * no longer ready) and puts it back; connections already made stay where they are.
 */
final class RoundRobinBalancer implements AutoCloseable {
    private final ServerSocket listener;
    private final List<InetSocketAddress> endpoints = new CopyOnWriteArrayList<>();
    private final AtomicInteger next = new AtomicInteger();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "balancer");
        t.setDaemon(true);
        return t;
    });
    /** Connections that found no endpoint, or none that accepted. */
    final AtomicInteger unrouted = new AtomicInteger();

    RoundRobinBalancer() throws IOException {
        listener = new ServerSocket(0, 512, java.net.InetAddress.getLoopbackAddress());
        threads.execute(this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    void add(InetSocketAddress endpoint) {
        endpoints.add(endpoint);
    }

    void remove(InetSocketAddress endpoint) {
        endpoints.remove(endpoint);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                threads.execute(() -> route(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void route(Socket client) {
        List<InetSocketAddress> now = List.copyOf(endpoints);
        for (int tries = 0; tries < now.size(); tries++) {
            InetSocketAddress to = now.get(Math.floorMod(next.getAndIncrement(), now.size()));
            Socket server = new Socket();
            try {
                server.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                server.connect(to, 2000);
            } catch (IOException e) {
                close(server);
                continue;
            }
            threads.execute(() -> copy(client, server));
            copy(server, client);
            return;
        }
        unrouted.incrementAndGet();
        close(client);
    }

    private static void copy(Socket from, Socket to) {
        byte[] buf = new byte[16384];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // either side went away: both are closed below
        } finally {
            close(from);
            close(to);
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        threads.shutdownNow();
    }
}
