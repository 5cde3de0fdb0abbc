package dev.pgferry.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.TlsConfig.ServerTlsMode;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresTlsResource;
import dev.pgferry.testing.SelfSignedCertificate;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.nio.file.Files;
import java.nio.file.Path;
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
        serverCert = PostgresTlsResource.enable();
        Path dir = Files.createTempDirectory("pgferry-backend-tls");
        otherCa = dir.resolve("other.crt");
        SelfSignedCertificate.write(dir.resolve("other.key"), otherCa);
    }

    @AfterAll
    static void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
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
