package dev.pgferry.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.config.PgferryConfig.ChannelBindingMode;
import dev.pgferry.config.TlsConfig.ServerTlsMode;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresTlsResource;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pgferry → PostgreSQL over the server's Unix-domain socket: each password method PostgreSQL asks for there,
 * no TLS on a socket (as libpq), and the errors for a missing socket and for a transport without sockets.
 */
class UnixSocketConnectTest {
    static EventLoopGroup group;
    static PostgresFixture pg;
    static String socketDir;

    @BeforeAll
    static void start() {
        pg = PostgresFixture.get();
        assumeTrue(pg.isLocal(), "the cluster runs in a container: its Unix socket is not reachable");
        assumeTrue(Epoll.isAvailable(), "Unix-domain sockets need the epoll transport");
        socketDir = pg.local().socketDirectory().toString();
        group = new EpollEventLoopGroup(1);
    }

    @AfterAll
    static void stop() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static Future<ServerConnection> connect(BackendChannels channels, BackendTls tls, ChannelBindingMode cb,
            String host, String user, String password) throws InterruptedException {
        BackendConnector connector = new BackendConnector(channels, Duration.ofSeconds(10), tls, cb);
        Future<ServerConnection> f = connector.connect(group.next(), new BackendTarget(host, pg.port(), "postgres"),
                new BackendCredentials.Password(user, password), Map.of());
        f.await(15, TimeUnit.SECONDS);
        return f;
    }

    private static BackendChannels epoll() {
        return new BackendChannels(EpollSocketChannel::new, EpollDomainSocketChannel::new);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"scram_u,scram_pw,SCRAM-SHA-256", "md5_u,md5_pw,", "plain_u,plain_pw,"})
    void logsInOverTheSocketWithWhateverMethodTheServerAsks(String user, String password, String sasl)
            throws Exception {
        Future<ServerConnection> f = connect(epoll(), null, ChannelBindingMode.PREFER, socketDir, user, password);
        assertThat(f.isSuccess()).as(String.valueOf(f.cause())).isTrue();
        ServerConnection c = f.getNow();
        try {
            assertThat(c.channel()).isInstanceOf(EpollDomainSocketChannel.class);
            assertThat(c.processId()).isPositive();
            assertThat(c.saslMechanism()).isEqualTo(sasl);
            assertThat(c.reported).containsKey("server_version");
            assertThat(c.toString()).contains(socketDir + "/.s.PGSQL." + pg.port());
        } finally {
            c.close();
        }
    }

    @Test
    void noTlsIsAttemptedOnASocketEvenWhenTheServersModeAsksForIt() throws Exception {
        PostgresTlsResource.enable(); // the server would accept TLS on TCP
        Future<ServerConnection> f = connect(epoll(), BackendTls.of(ServerTlsMode.REQUIRE, Optional.empty()),
                ChannelBindingMode.PREFER, socketDir, "scram_u", "scram_pw");
        assertThat(f.isSuccess()).as(String.valueOf(f.cause())).isTrue();
        assertThat(f.getNow().channel().pipeline().get(SslHandler.class)).isNull();
        assertThat(f.getNow().saslMechanism()).as("no channel to bind to").isEqualTo("SCRAM-SHA-256");
        f.getNow().close();
    }

    @Test
    void channelBindingRequiredIsRefusedOnASocketWhereThereIsNoTls() throws Exception {
        Future<ServerConnection> f = connect(epoll(), null, ChannelBindingMode.REQUIRE, socketDir, "scram_u",
                "scram_pw");
        assertThat(f.isSuccess()).isFalse();
        assertThat(f.cause()).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.getMessage()).containsIgnoringCase("channel binding"));
    }

    @Test
    void aDirectoryWithoutTheServersSocketIsAConnectionFailureNamingThePath() throws Exception {
        Future<ServerConnection> f = connect(epoll(), null, ChannelBindingMode.PREFER, "/nonexistent-pgferry-dir",
                "scram_u", "scram_pw");
        assertThat(f.isSuccess()).isFalse();
        assertThat(f.cause()).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.sqlState()).isEqualTo("08006");
            assertThat(e.getMessage()).contains("/nonexistent-pgferry-dir/.s.PGSQL." + pg.port());
        });
    }

    @Test
    void aTransportWithoutUnixSocketsSaysSo() throws Exception {
        Future<ServerConnection> f = connect(BackendChannels.tcpOnly(EpollSocketChannel::new), null,
                ChannelBindingMode.PREFER, socketDir, "scram_u", "scram_pw");
        assertThat(f.isSuccess()).isFalse();
        assertThat(f.cause()).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.sqlState()).isEqualTo("08006");
            assertThat(e.getMessage()).contains("native transport");
        });
    }
}
