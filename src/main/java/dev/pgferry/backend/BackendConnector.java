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
 * Opens authenticated server connections: TCP or a Unix-domain socket ({@link BackendChannels}) on the
 * caller's event loop (so a client and its backend share one thread), StartupMessage, whatever authentication the server asks for, then ParameterStatus
 * and BackendKeyData until ReadyForQuery.
 */
public final class BackendConnector {
    private static final Logger LOG = Logger.getLogger(BackendConnector.class);
    private static final AtomicLong IDS = new AtomicLong();

    private final BackendChannels channels;
    private final Duration connectTimeout;

    private final BackendTls tls;
    private final ChannelBindingPolicy channelBinding;
    private final LongAdder boundScramLogins = new LongAdder();
    private final LongAdder unboundScramLogins = new LongAdder();

    /** TCP only; {@code tls}: null for plaintext backends; SCRAM channel binding {@code prefer}, the default. */
    public BackendConnector(ChannelFactory<? extends Channel> channelFactory, Duration connectTimeout, BackendTls tls) {
        this(BackendChannels.tcpOnly(channelFactory), connectTimeout, tls, ChannelBindingMode.PREFER);
    }

    /**
     * {@code tls}: null for plaintext backends (never used over Unix sockets, as in libpq); {@code channelBinding}:
     * {@code pgferry.backend.channel-binding}.
     */
    public BackendConnector(BackendChannels channels, Duration connectTimeout, BackendTls tls,
            ChannelBindingMode channelBinding) {
        this.channels = channels;
        this.connectTimeout = connectTimeout;
        this.tls = tls;
        this.channelBinding = ChannelBindingPolicy.of(channelBinding);
    }

    /**
     * The connector {@code config} describes: connect timeout, TLS to the servers and channel binding, the same for
     * the pools and for the readiness checks (so that a check proves what clients will get).
     */
    public static BackendConnector of(BackendChannels channels, PgferryConfig config) {
        return new BackendConnector(channels, config.backend().connectTimeout(),
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
        Bootstrap b;
        try {
            b = channels.bootstrap(loop, target);
        } catch (BackendException e) {
            return promise.setFailure(e);
        }
        BackendTls overTls = target.unixSocket() ? null : tls; // no SSLRequest on a Unix socket, as libpq
        b.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ServerConnection conn = new ServerConnection(ch, target, id);
                        ch.pipeline().addLast("startup", new BackendStartupHandler(conn, credentials, startupParams, promise,
                                overTls, channelBinding));
                    }
                });
        LOG.debugf("S-%d connecting to %s/%s as %s", id, target.address(), target.database(), credentials.user());
        b.connect(BackendChannels.address(target)).addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(new BackendException("08006", "could not connect to server " + target.address()
                        + ": " + f.cause().getMessage(), false, f.cause()));
            }
        });
        var timeout = loop.schedule(() -> {
            if (promise.tryFailure(new BackendException("08006", "timeout while connecting to server "
                    + target.address(), false, null))) {
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
