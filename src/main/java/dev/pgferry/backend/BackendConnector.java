package dev.pgferry.backend;

import dev.pgferry.auth.ChannelBindingPolicy;
import dev.pgferry.auth.ScramServer;
import dev.pgferry.config.PgferryConfig;
import dev.pgferry.config.PgferryConfig.ChannelBindingMode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jboss.logging.Logger;

/**
 * Opens authenticated server connections: TCP on the caller's event loop (so a client and its backend
 * share one thread), StartupMessage, whatever authentication the server asks for, then ParameterStatus
 * and BackendKeyData until ReadyForQuery.
 */
public final class BackendConnector {
    private static final Logger LOG = Logger.getLogger(BackendConnector.class);
    private static final AtomicLong IDS = new AtomicLong();

    private final ChannelFactory<? extends Channel> channelFactory;
    private final Duration connectTimeout;

    private final BackendTls tls;
    private final ChannelBindingPolicy channelBinding;
    private final LongAdder boundScramLogins = new LongAdder();
    private final LongAdder unboundScramLogins = new LongAdder();

    /** {@code tls}: null for plaintext backends; SCRAM channel binding {@code prefer}, the default. */
    public BackendConnector(ChannelFactory<? extends Channel> channelFactory, Duration connectTimeout, BackendTls tls) {
        this(channelFactory, connectTimeout, tls, ChannelBindingMode.PREFER);
    }

    /** {@code tls}: null for plaintext backends; {@code channelBinding}: {@code pgferry.backend.channel-binding}. */
    public BackendConnector(ChannelFactory<? extends Channel> channelFactory, Duration connectTimeout, BackendTls tls,
            ChannelBindingMode channelBinding) {
        this.channelFactory = channelFactory;
        this.connectTimeout = connectTimeout;
        this.tls = tls;
        this.channelBinding = ChannelBindingPolicy.of(channelBinding);
    }

    /**
     * The connector {@code config} describes: connect timeout, TLS to the servers and channel binding, the same for
     * the pools and for the readiness checks (so that a check proves what clients will get).
     */
    public static BackendConnector of(ChannelFactory<? extends Channel> channelFactory, PgferryConfig config) {
        return new BackendConnector(channelFactory, config.backend().connectTimeout(),
                BackendTls.of(config.tls().server().mode(), config.tls().server().caFile()),
                config.backend().channelBinding());
    }

    /**
     * Backend logins completed with SCRAM, bound to the TLS channel (SCRAM-SHA-256-PLUS) or not
     * (SCRAM-SHA-256), since this connector was made.
     */
    public long scramLogins(boolean channelBound) {
        return (channelBound ? boundScramLogins : unboundScramLogins).sum();
    }

    /** Connects on {@code loop}; the future completes on that loop with a connection at ReadyForQuery 'I'. */
    public Future<ServerConnection> connect(EventLoop loop, BackendTarget target, BackendCredentials credentials,
            Map<String, String> startupParams) {
        Promise<ServerConnection> promise = loop.newPromise();
        long id = IDS.incrementAndGet();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channelFactory(channelFactory)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ServerConnection conn = new ServerConnection(ch, target, id);
                        ch.pipeline().addLast("startup", new BackendStartupHandler(conn, credentials, startupParams, promise, tls,
                                channelBinding));
                    }
                });
        LOG.debugf("S-%d connecting to %s:%d/%s as %s", id, target.host(), target.port(), target.database(),
                credentials.user());
        b.connect(target.host(), target.port()).addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(new BackendException("08006", "could not connect to server " + target.host() + ":"
                        + target.port() + ": " + f.cause().getMessage(), false, f.cause()));
            }
        });
        var timeout = loop.schedule(() -> {
            if (promise.tryFailure(new BackendException("08006", "timeout while connecting to server "
                    + target.host() + ":" + target.port(), false, null))) {
                LOG.debugf("S-%d startup timed out", id);
            }
        }, connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        promise.addListener(f -> {
            timeout.cancel(false);
            if (f.isSuccess()) {
                countLogin((ServerConnection) f.getNow());
            }
        });
        return promise;
    }

    private void countLogin(ServerConnection conn) {
        String mechanism = conn.saslMechanism();
        if (mechanism != null) {
            (mechanism.equals(ScramServer.MECHANISM_PLUS) ? boundScramLogins : unboundScramLogins)
                    .increment();
        }
    }
}
