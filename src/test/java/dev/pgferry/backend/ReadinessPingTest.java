package dev.pgferry.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The readiness check without a secret ({@link BackendCredentials.Ping}) judges a server as libpq's PQping does: an
 * authentication request, or any error but 57P03 (starting up, shutting down, not yet accepting connections), means
 * the server accepts connections; 57P03 and silence do not. The server here is scripted: it reads the StartupMessage
 * and sends one answer.
 */
class ReadinessPingTest {
    static EventLoopGroup group;

    @BeforeAll
    static void start() {
        group = new NioEventLoopGroup(1);
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** One scripted server: accepts one connection, reads the StartupMessage, writes {@code answer} and waits. */
    private static boolean ping(byte[] answer) throws Exception {
        CountDownLatch judged = new CountDownLatch(1);
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    int length = in.readInt();
                    in.readFully(new byte[length - 4]);
                    OutputStream out = s.getOutputStream();
                    out.write(answer);
                    out.flush();
                    judged.await(5, TimeUnit.SECONDS); // a server that closes only once pgferry has judged the answer
                } catch (IOException | InterruptedException e) {
                    // the ping closed first
                }
            });
            t.start();
            BackendConnector connector = new BackendConnector(NioSocketChannel::new, Duration.ofSeconds(2), null);
            Future<ServerConnection> f = connector.connect(group.next(),
                    new BackendTarget("127.0.0.1", server.getLocalPort(), "postgres"),
                    new BackendCredentials.Ping("postgres"), Map.of());
            f.await(5, TimeUnit.SECONDS);
            judged.countDown();
            t.join(5000);
            return f.isDone() && f.isSuccess();
        }
    }

    private static byte[] authRequest(int code) {
        return new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, (byte) code};
    }

    private static byte[] error(String sqlState, String message) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write('S');
        body.writeBytes("FATAL\0".getBytes(StandardCharsets.UTF_8));
        body.write('C');
        body.writeBytes((sqlState + "\0").getBytes(StandardCharsets.UTF_8));
        body.write('M');
        body.writeBytes((message + "\0").getBytes(StandardCharsets.UTF_8));
        body.write(0);
        byte[] b = body.toByteArray();
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        m.write('E');
        int len = b.length + 4;
        m.writeBytes(new byte[] {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
        m.writeBytes(b);
        return m.toByteArray();
    }

    @Test
    void anAuthenticationRequestMeansTheServerAcceptsConnections() throws Exception {
        assertThat(ping(authRequest(10))).as("SASL").isTrue();
        assertThat(ping(authRequest(5))).as("MD5").isTrue();
        assertThat(ping(authRequest(3))).as("cleartext").isTrue();
    }

    @Test
    void anErrorOtherThanCannotConnectNowMeansTheServerIsUp() throws Exception {
        assertThat(ping(error("28000", "no pg_hba.conf entry for host \"127.0.0.1\""))).isTrue();
        assertThat(ping(error("3D000", "database \"postgres\" does not exist"))).isTrue();
    }

    @Test
    void startingUpOrShuttingDownIsNotReady() throws Exception {
        assertThat(ping(error("57P03", "the database system is starting up"))).isFalse();
        assertThat(ping(error("57P03", "the database system is shutting down"))).isFalse();
    }

    @Test
    void aServerThatDoesNotAnswerIsNotReady() throws Exception {
        assertThat(ping(new byte[0])).isFalse();
    }
}
