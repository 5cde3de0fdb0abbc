package dev.pgferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.devservice.PostgresBinaries;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar started where one of its ports is taken exits non-zero with one ERROR line naming the address, the
 * port and the key that moves it: no stack trace, and no "connect through pgferry" line. A throwaway PostgreSQL it
 * started for itself (pgferry.dev-postgres, dev mode's) is stopped again.
 */
class StartupFailureIT {
    private static final Duration RUN = Duration.ofSeconds(90);

    @Test
    void postgresPortTakenIsOneErrorLineAndExitCodeOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            PackagedJar.Outcome out = PackagedJar.run(PackagedJar.options("-Dpgferry.listen-host=127.0.0.1",
                    "-Dpgferry.listen-port=" + port), List.of(), "", RUN);
            assertThat(out.exitCode()).as(out.toString()).isNotZero();
            assertOneErrorLine(out, "127.0.0.1:" + port, "Address already in use", "pgferry.listen-port");
        }
    }

    @Test
    void httpPortTakenIsOneErrorLineAndExitCodeOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            int port = taken.getLocalPort();
            List<String> options = PackagedJar.options("-Dpgferry.listen-host=127.0.0.1",
                    "-Dpgferry.listen-port=" + PackagedJar.freePort());
            options.add("-Dquarkus.http.port=" + port); // the later -D wins
            PackagedJar.Outcome out = PackagedJar.run(options, List.of(), "", RUN);
            assertThat(out.exitCode()).as(out.toString()).isNotZero();
            assertOneErrorLine(out, ":" + port, "Address already in use", "quarkus.http.port");
        }
    }

    @Test
    void unixSocketTakenIsOneErrorLineAndExitCodeOne() throws Exception {
        Path dir = Files.createTempDirectory("pgferry-it-sock");
        int port = PackagedJar.freePort();
        Path socket = dir.resolve(".s.PGSQL." + port);
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(socket));
            PackagedJar.Outcome out = PackagedJar.run(PackagedJar.options("-Dpgferry.listen-host=127.0.0.1",
                    "-Dpgferry.listen-port=" + port, "-Dpgferry.unix-socket-dir=" + dir), List.of(), "", RUN);
            assertThat(out.exitCode()).as(out.toString()).isNotZero();
            assertOneErrorLine(out, socket.toString(), "another server listens", "pgferry.unix-socket-dir");
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * pgferry.dev-postgres starts its cluster before the listener binds; when the bind fails the cluster is stopped
     * before the JVM exits (Quarkus fires no ShutdownEvent after a failed StartupEvent), and the connect line, printed
     * only once pgferry listens, never appears.
     */
    @Test
    void devPostgresIsStoppedWhenTheListenerCannotBind() throws Exception {
        assumeTrue(hasServerBinaries(), "needs the PostgreSQL server binaries (" + PostgresBinaries.installCommand()
                + ")");
        int backendPort = PackagedJar.freePort();
        Path dir = Path.of("root".equals(System.getProperty("user.name")) ? "/tmp" : "target")
                .resolve("pgferry-it-devpg-" + backendPort).toAbsolutePath();
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            PackagedJar.Outcome out = PackagedJar.run(PackagedJar.options("-Dpgferry.listen-host=127.0.0.1",
                    "-Dpgferry.listen-port=" + taken.getLocalPort(), "-Dpgferry.dev-postgres.enabled=true",
                    "-Dpgferry.dev-postgres.directory=" + dir, "-Dpgferry.backend.port=" + backendPort,
                    "-Dpgferry.auth.users-file=" + dir.resolve("userlist.txt")), List.of(), "", Duration.ofSeconds(180));
            assertThat(out.exitCode()).as(out.toString()).isNotZero();
            assertThat(out.matching(l -> l.contains("listening on 127.0.0.1:" + backendPort))).as(out.toString())
                    .hasSize(1); // the cluster did start
            assertOneErrorLine(out, "127.0.0.1:" + taken.getLocalPort(), "Address already in use",
                    "pgferry.listen-port");
            assertThat(Files.exists(dir.resolve("data").resolve("postmaster.pid"))).as("postmaster.pid left: "
                    + out).isFalse();
            try (Socket s = new Socket()) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.connect(
                        new InetSocketAddress("127.0.0.1", backendPort), 2000)).as("dev PostgreSQL still accepts")
                        .isInstanceOf(IOException.class);
            }
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * A pgbouncer.ini key pgferry cannot honour safely stops the start as a taken port does: one ERROR line with the
     * file and line, exit code 1, no stack trace, nothing listening.
     */
    @Test
    void anIniKeyPgferryCannotHonourIsOneErrorLineWithFileAndLine() throws Exception {
        Path dir = Files.createTempDirectory("pgferry-it-ini");
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(ini, """
                [databases]
                bench = host=127.0.0.1 port=5432 dbname=bench

                [pgbouncer]
                listen_port = 6432
                auth_type = pam
                """);
        try {
            PackagedJar.Outcome out = PackagedJar.run(PackagedJar.options("-Dpgferry.listen-host=127.0.0.1",
                    "-Dpgferry.listen-port=" + PackagedJar.freePort(), "-Dpgferry.pgbouncer-ini=" + ini), List.of(), "",
                    RUN);
            assertThat(out.exitCode()).as(out.toString()).isNotZero();
            assertOneErrorLine(out, "pgferry.pgbouncer-ini", "auth_type = pam cannot be honoured", ini + ":6)");
            assertThat(out.matching(l -> l.contains("pgferry listening"))).as(out.toString()).isEmpty();
        } finally {
            Files.deleteIfExists(ini);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The connect line comes once pgferry listens (a client can use it at once), and stopping pgferry as an operator
     * does (SIGTERM, or Ctrl+C in dev mode) stops the dev PostgreSQL with it.
     */
    @Test
    void devPostgresIsStoppedWhenPgferryStops() throws Exception {
        assumeTrue(hasServerBinaries(), "needs the PostgreSQL server binaries (" + PostgresBinaries.installCommand()
                + ")");
        int backendPort = PackagedJar.freePort();
        int port = PackagedJar.freePort();
        Path dir = Path.of("root".equals(System.getProperty("user.name")) ? "/tmp" : "target")
                .resolve("pgferry-it-devpg-" + backendPort).toAbsolutePath();
        try {
            PackagedJar.Running jar = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=127.0.0.1",
                    "-Dpgferry.listen-port=" + port, "-Dpgferry.dev-postgres.enabled=true",
                    "-Dpgferry.dev-postgres.directory=" + dir, "-Dpgferry.backend.port=" + backendPort,
                    "-Dpgferry.auth.users-file=" + dir.resolve("userlist.txt")), List.of(), "");
            try (jar) {
                jar.await(l -> l.contains("Connect through pgferry") && l.contains("127.0.0.1:" + port),
                        Duration.ofSeconds(180));
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 2000); // listening when the line is printed
                }
                assertThat(Files.exists(dir.resolve("data").resolve("postmaster.pid"))).isTrue();
            }
            assertThat(Files.exists(dir.resolve("data").resolve("postmaster.pid"))).as("postmaster.pid left: "
                    + String.join("\n", jar.lines())).isFalse();
            try (Socket s = new Socket()) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.connect(
                        new InetSocketAddress("127.0.0.1", backendPort), 2000)).as("dev PostgreSQL still accepts")
                        .isInstanceOf(IOException.class);
            }
        } finally {
            deleteTree(dir);
        }
    }

    private static void assertOneErrorLine(PackagedJar.Outcome out, String... mentions) {
        List<String> errors = out.matching(l -> l.contains("ERROR"));
        assertThat(errors).as(out.toString()).hasSize(1);
        assertThat(errors.get(0)).contains(mentions);
        assertThat(out.matching(l -> l.startsWith("\tat ") || l.startsWith("Caused by"))).as(out.toString()).isEmpty();
        assertThat(out.matching(l -> l.contains("Connect through pgferry"))).as(out.toString()).isEmpty();
    }

    private static boolean hasServerBinaries() {
        try {
            PostgresBinaries.locate();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
