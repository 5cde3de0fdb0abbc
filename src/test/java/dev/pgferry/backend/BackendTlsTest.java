package dev.pgferry.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.PgferryConfig.ServerTlsMode;
import dev.pgferry.devservice.LocalPostgres;
import dev.pgferry.testing.PostgresFixture;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** pgferry → PostgreSQL over TLS (SSLRequest before the startup), against the real server with ssl=on. */
class BackendTlsTest {
    static EventLoopGroup group;
    static Path serverCert;
    static Path otherCa;
    static PostgresFixture pg;

    @BeforeAll
    static void enableServerTls() throws Exception {
        pg = PostgresFixture.get();
        group = new NioEventLoopGroup(1);
        Path dir = Files.createTempDirectory("pgferry-backend-tls");
        openssl(dir, "server");
        openssl(dir, "other");
        serverCert = dir.resolve("server.crt");
        otherCa = dir.resolve("other.crt");
        LocalPostgres local = pg.local();
        Path data = local.dataDirectory();
        Path crt = Files.copy(serverCert, data.resolve("pgferry-test.crt"), StandardCopyOption.REPLACE_EXISTING);
        Path key = Files.copy(dir.resolve("server.key"), data.resolve("pgferry-test.key"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        if ("root".equals(System.getProperty("user.name"))) {
            UserPrincipal postgres = data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(crt, postgres);
            Files.setOwner(key, postgres);
        }
        local.psql("alter system set ssl_cert_file = '" + crt + "'");
        local.psql("alter system set ssl_key_file = '" + key + "'");
        local.psql("alter system set ssl = on");
        local.psql("select pg_reload_conf()");
        for (int i = 0; i < 50 && !"on".equals(local.psql("show ssl").trim()); i++) {
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** A self-signed certificate for 127.0.0.1 named {@code name}.crt/.key. */
    static void openssl(Path dir, String name) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                dir.resolve(name + ".key").toString(), "-out", dir.resolve(name + ".crt").toString(), "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("openssl").isTrue();
    }

    private Future<ServerConnection> connect(ServerTlsMode mode, Path ca) throws InterruptedException {
        BackendConnector connector = new BackendConnector(NioSocketChannel::new, Duration.ofSeconds(10),
                BackendTls.of(mode, Optional.ofNullable(ca)));
        Future<ServerConnection> f = connector.connect(group.next(), new BackendTarget("127.0.0.1", pg.port(), "postgres"),
                new BackendCredentials.Password("scram_u", "scram_pw"), Map.of());
        f.await(15, TimeUnit.SECONDS);
        return f;
    }

    @Test
    void verifyFullWithTheServersCaEncryptsAndAuthenticates() throws Exception {
        Future<ServerConnection> f = connect(ServerTlsMode.VERIFY_FULL, serverCert);
        assertThat(f.isSuccess()).as(String.valueOf(f.cause())).isTrue();
        ServerConnection c = f.getNow();
        assertThat(c.channel().pipeline().get(SslHandler.class)).isNotNull();
        assertThat(c.reported).containsKey("server_version");
        c.close();
    }

    @Test
    void requireEncryptsWithoutCheckingTheCertificate() throws Exception {
        Future<ServerConnection> f = connect(ServerTlsMode.REQUIRE, null);
        assertThat(f.isSuccess()).as(String.valueOf(f.cause())).isTrue();
        assertThat(f.getNow().channel().pipeline().get(SslHandler.class)).isNotNull();
        f.getNow().close();
    }

    @Test
    void verifyFullWithAWrongCaFailsClearly() throws Exception {
        Future<ServerConnection> f = connect(ServerTlsMode.VERIFY_FULL, otherCa);
        assertThat(f.isSuccess()).isFalse();
        assertThat(f.cause()).isInstanceOf(BackendException.class);
        assertThat(f.cause().getMessage()).contains("SSL handshake with server 127.0.0.1:" + pg.port() + " failed");
    }
}
