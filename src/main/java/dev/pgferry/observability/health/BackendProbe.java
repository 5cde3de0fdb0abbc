package dev.pgferry.observability.health;

import dev.pgferry.auth.ChannelBindingPolicy;
import dev.pgferry.backend.BackendConnector;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.CheckCredentials;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig;
import dev.pgferry.config.TlsConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * pgferry's own check connections, one per configured database every half
 * {@code pgferry.health.backend-check-interval}: connect, authenticate, Terminate. Readiness reads the outcome;
 * clients' connections play no part, so an idle pgferry still knows whether its servers answer.
 */
@ApplicationScoped
public class BackendProbe {
    private static final Logger LOG = Logger.getLogger(BackendProbe.class);
    private static final byte[] TERMINATE = {'X', 0, 0, 0, 4};

    @Inject
    Vertx vertx;

    @Inject
    PgferryConfig config;

    private final Map<String, Check> checks = new ConcurrentHashMap<>();
    private volatile List<ProbeTarget> targets = List.of();
    private ScheduledExecutorService timer;
    private BackendConnector connector;

    void onStart(@Observes StartupEvent event) {
        start();
    }

    void onStop(@Observes ShutdownEvent event) {
        stop();
    }

    synchronized void start() {
        VertxInternal vx = (VertxInternal) vertx;
        // the same TLS to the servers as the pools use, so the check proves what clients will get
        connector = BackendConnector.of(dev.pgferry.backend.BackendChannels.of(vx.transport()), config);
        targets = ProbeTarget.all(config);
        ChannelBindingPolicy binding = ChannelBindingPolicy.of(config.backend().channelBinding());
        boolean tlsDisabled = config.tls().server().mode() == TlsConfig.ServerTlsMode.DISABLE;
        for (ProbeTarget t : targets) {
            String why = binding.unusableBecause(tlsDisabled, t.target().unixSocket());
            if (why != null) {
                LOG.warnf("database %s (%s): %s: every login to that server will be refused (readiness shows it)",
                        t.name(), t.target().address(), why);
            }
        }
        targets.forEach(t -> checks.put(t.name(), new Check()));
        long period = Math.max(100, config.health().backendCheckInterval().toMillis() / 2);
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgferry-backend-check");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::probeAll, 0, period, TimeUnit.MILLISECONDS);
    }

    synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    /** Each configured database, in configuration order, with whether it answered within the interval. */
    public List<DatabaseStatus> statuses() {
        long now = System.nanoTime();
        long window = config.health().backendCheckInterval().toNanos();
        List<DatabaseStatus> out = new ArrayList<>();
        for (ProbeTarget t : targets) {
            Check c = checks.get(t.name());
            long okAgo = c.everOk ? TimeUnit.NANOSECONDS.toMillis(now - c.lastOkNanos) : -1;
            boolean recent = c.everOk && now - c.lastOkNanos <= window;
            out.add(new DatabaseStatus(t.name(), recent, okAgo, c.lastError));
        }
        return out;
    }

    private void probeAll() {
        BackendCredentials credentials;
        try {
            credentials = CheckCredentials.resolve(config);
        } catch (Exception e) {
            checks.values().forEach(c -> c.lastError = "cannot read pgferry.auth.users-file: " + e.getMessage());
            return;
        }
        var loops = ((VertxInternal) vertx).getEventLoopGroup();
        for (ProbeTarget t : targets) {
            Check c = checks.get(t.name());
            if (c.inFlight.compareAndSet(false, true)) {
                probe(t, c, (EventLoop) loops.next(), credentials);
            }
        }
    }

    private void probe(ProbeTarget t, Check c, EventLoop loop, BackendCredentials credentials) {
        connector.connect(loop, t.target(), credentials, Map.of("application_name", "pgferry-health"))
                .addListener(f -> {
                    if (f.isSuccess()) {
                        if (c.lastError != null) {
                            LOG.infof("readiness check of database %s succeeds again", t.name());
                        }
                        c.lastOkNanos = System.nanoTime();
                        c.everOk = true;
                        c.lastError = null;
                        ServerConnection conn = (ServerConnection) f.getNow();
                        conn.channel().writeAndFlush(Unpooled.wrappedBuffer(TERMINATE))
                                .addListener(ChannelFutureListener.CLOSE);
                    } else {
                        String error = String.valueOf(f.cause().getMessage());
                        if (!error.equals(c.lastError)) {
                            LOG.warnf("readiness check of database %s failed: %s", t.name(), error);
                        }
                        c.lastError = error;
                    }
                    c.inFlight.set(false);
                });
    }

    /** Last outcome of one database's check; written on an event loop, read by readiness. */
    private static final class Check {
        final AtomicBoolean inFlight = new AtomicBoolean();
        volatile boolean everOk;
        volatile long lastOkNanos;
        volatile String lastError;
    }

    /** {@code lastOkMillisAgo} is -1 when the database never answered; {@code lastError} is null after a success. */
    public record DatabaseStatus(String database, boolean reachable, long lastOkMillisAgo, String lastError) {}
}
