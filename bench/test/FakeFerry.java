// Script-test stand-in for pgferry: a plain TCP forwarder from -Dpgferry.listen-port to
// -Dpgferry.backend.host:port (no pooling). Lets bench/run.sh and bench/memory.sh exercise their
// pgferry code path (start, readiness, RSS, stop) before the real jar exists:
//   bench/test/fakeferry.sh && BENCH_JAR=/tmp/fakeferry/fakeferry.jar bench/run.sh ...
// Its numbers mean nothing; never publish them.
import java.io.*;
import java.net.*;

public class FakeFerry {
    public static void main(String[] args) throws Exception {
        int port = Integer.getInteger("pgferry.listen-port", 6432);
        String host = System.getProperty("pgferry.backend.host", "127.0.0.1");
        int backend = Integer.getInteger("pgferry.backend.port", 5432);
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
            System.out.println("fakeferry listening on " + port + " -> " + host + ":" + backend);
            while (true) {
                Socket client = server.accept();
                new Thread(() -> relay(client, host, backend)).start();
            }
        }
    }

    static void relay(Socket client, String host, int port) {
        try (client; Socket up = new Socket(host, port)) {
            client.setTcpNoDelay(true);
            up.setTcpNoDelay(true);
            Thread t = new Thread(() -> copy(up, client));
            t.start();
            copy(client, up);
            t.join();
        } catch (Exception e) {
            // connection ends
        }
    }

    static void copy(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (IOException e) {
            // closed
        } finally {
            try { to.shutdownOutput(); } catch (IOException ignored) { }
        }
    }
}
