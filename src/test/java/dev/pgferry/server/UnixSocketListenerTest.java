package dev.pgferry.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.SocketDirectory;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Clients on pgferry's Unix-domain socket ({@code pgferry.unix-socket-dir}): psql, a raw client, the admin console. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(UnixSocketListenerTest.OnASocket.class)
class UnixSocketListenerTest {

    /** A fresh directory per run, short: a socket path holds at most 107 bytes. */
    public static class OnASocket implements QuarkusTestProfile {
        static final String DIR = SocketDirectory.create().toString();

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.unix-socket-dir", DIR);
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    /** From the application under test, not the profile's static field: a profile may be loaded twice. */
    @ConfigProperty(name = "pgferry.unix-socket-dir")
    String socketDir;

    private Path socket() {
        return UnixSocketFile.path(socketDir, port);
    }

    @Test
    @Timeout(90)
    void psqlReachesPgferryWithTheSocketDirectoryAsHost() throws Exception {
        ClientProgram.Result r = ClientProgram.run(List.of("/usr/bin/psql", "-X", "-w", "-At", "-h", socketDir, "-p",
                Integer.toString(port), "-U", "scram_u", "-d", "postgres", "-c", "select current_user", "-c", "\\conninfo"),
                "scram_pw", Map.of(), 60);
        String out = r.stdout();
        assertThat(r.exitCode()).as(out + r.stderr()).isZero();
        assertThat(out.lines().findFirst()).hasValue("scram_u");
        assertThat(out).contains("via socket in \"" + socketDir + "\"").contains("at port \"" + port + "\"");
    }

    @Test
    @Timeout(60)
    void sslRequestOnTheSocketIsAnsweredNAndTheLoginContinues() throws Exception {
        try (RawWireClient c = RawWireClient.connect(socket()).timeout(10_000)) {
            c.send(RawWireClient.sslRequest());
            assertThat(c.readByte()).as("answer to SSLRequest").isEqualTo('N');
            c.logIn("scram_u", "scram_pw", "postgres");
            assertThat(queryOne(c, "select current_user")).isEqualTo("scram_u");
        }
    }

    @Test
    void theSocketFileIsThereWithTheConfiguredModeWhileRunning() throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(socket(), PosixFileAttributes.class,
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        assertThat(attributes.isOther()).as("a socket, neither file, directory nor link").isTrue();
        // 0777 (the default), not the umask's 0755 that bind leaves
        assertThat(attributes.permissions()).isEqualTo(PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    @Test
    @Timeout(60)
    void aCancelRequestOnTheSocketCancelsTheQueryOfASocketClient() throws Exception {
        try (RawWireClient c = RawWireClient.login(socket(), 10_000, "scram_u", "scram_pw", "postgres")) {
            c.timeout(40_000).send(RawWireClient.query("select pg_sleep(30)"));
            Thread.sleep(300);
            long t0 = System.nanoTime();
            try (RawWireClient cancel = RawWireClient.connect(socket()).timeout(5_000)) {
                cancel.send(RawWireClient.cancelRequest(c.backendKeyData()));
                assertThat(cancel.read()).as("pgferry closes a cancel connection without answering")
                        .isEqualTo(RawWireClient.Msg.EOF);
            }
            List<RawWireClient.Msg> reply = c.readUntilReady();
            assertThat(reply).filteredOn(m -> m.type() == 'E').singleElement()
                    .satisfies(e -> assertThat(e.field('C')).isEqualTo("57014"))
                    .satisfies(e -> assertThat(e.field('M')).isEqualTo("canceling statement due to user request"));
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds until cancelled").isLessThan(10);
            assertThat(queryOne(c, "select 'still usable'")).isEqualTo("still usable");
        }
    }

    @Test
    @Timeout(60)
    void showClientsSaysUnixAndTheListenPortForASocketClient() throws Exception {
        try (RawWireClient c = RawWireClient.login(socket(), 10_000, "scram_u", "scram_pw", "postgres");
                Connection admin = admin()) {
            List<Map<String, String>> clients = AdminConsoleRows.rows(admin, "SHOW CLIENTS");
            assertThat(clients).anySatisfy(r -> {
                assertThat(r.get("user")).isEqualTo("scram_u");
                assertThat(r.get("addr")).isEqualTo("unix");
                assertThat(r.get("port")).isEqualTo(Integer.toString(port));
            });
            assertThat(clients).allSatisfy(r -> assertThat(r.get("addr")).as("addr of %s", r).isNotBlank());
        }
    }

    @Inject
    ProxyServer server;

    /**
     * Startup with another server on the socket file is refused, naming it, and leaves nothing bound (the TCP port is
     * free again); once that server is gone, its file left behind is stale and the next start replaces it.
     */
    @Test
    @Timeout(60)
    void startIsRefusedWhileAnotherServerListensOnTheSocketAndReplacesItsFileAfter() throws Exception {
        server.stop();
        try {
            try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                other.bind(UnixDomainSocketAddress.of(socket()));
                assertThatThrownBy(server::start).isInstanceOf(ListenException.class)
                        .hasMessageEndingWith(": another server listens on " + socket() + " (is pgferry already running with this"
                                + " pgferry.unix-socket-dir and pgferry.listen-port?)");
                assertThat(server.listening()).isFalse();
                try (ServerSocket tcp = new ServerSocket()) {
                    tcp.bind(new InetSocketAddress("127.0.0.1", port)); // pgferry let go of its TCP port
                }
            }
            assertThat(Files.exists(socket())).as("the other server's file, left behind").isTrue();
        } finally {
            server.start();
        }
        assertThat(server.listening()).isTrue();
        try (RawWireClient c = RawWireClient.connect(socket()).timeout(10_000)) {
            c.logIn("scram_u", "scram_pw", "postgres");
            assertThat(queryOne(c, "select current_user")).isEqualTo("scram_u");
        }
    }

    /** The admin console over TCP, next to the socket. */
    private Connection admin() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", "secret");
        p.setProperty("sslmode", "disable");
        p.setProperty("preferQueryMode", "simple");
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/pgferry", p);
    }

    /** The single value of a one-row query on a logged-in raw connection. */
    private static String queryOne(RawWireClient c, String sql) throws IOException {
        List<RawWireClient.Msg> reply = c.exchange(1, RawWireClient.query(sql));
        RawWireClient.Msg row = reply.stream().filter(m -> m.type() == 'D').findFirst()
                .orElseThrow(() -> new AssertionError("no row in " + reply));
        byte[] b = row.body(); // int16 column count, int32 length, the value
        int len = ((b[2] & 0xff) << 24) | ((b[3] & 0xff) << 16) | ((b[4] & 0xff) << 8) | (b[5] & 0xff);
        return new String(b, 6, len, StandardCharsets.UTF_8);
    }
}
