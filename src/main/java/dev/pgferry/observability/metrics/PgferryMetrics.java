package dev.pgferry.observability.metrics;

import dev.pgferry.session.ClientCounts;
import dev.pgferry.session.ProxyStatus;
import dev.pgferry.session.SessionStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.arc.ClientProxy;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.ToLongFunction;

/**
 * Registers pgferry's meters once, after the listener started: process-wide login and protocol counters here,
 * and {@link PoolMeters} for every pool, present and future. Everything is read at scrape time from counters the
 * proxy keeps anyway. The meters read the server itself, not its CDI proxy, and are removed when the application
 * stops: Quarkus's registry can outlive one start (dev-mode reloads, test restarts), and a meter left behind would read
 * a stopped application through its proxy, failing the whole scrape.
 */
@ApplicationScoped
public class PgferryMetrics {
    @Inject
    MeterRegistry registry;

    @Inject
    ProxyStatus injected;

    private ProxyStatus server;
    /** Every meter registered here and by {@link PoolMeters}, removed at shutdown. */
    private final Queue<Meter> meters = new ConcurrentLinkedQueue<>();

    void onStart(@Observes StartupEvent event) {
        server = ClientProxy.unwrap(injected);
        SessionStats sc = server.context();
        meters.add(Gauge.builder("pgferry.client.connections", server, s -> s.context().clientConnections())
                .description("Client connections open (logging in or logged in; admin console excluded)")
                .strongReference(true).register(registry));
        meters.add(Gauge.builder("pgferry.pools", server, s -> s.context().pools().all().size())
                .description("Pools, one per (database, user) a client asked for").strongReference(true)
                .register(registry));
        counter("pgferry.logins", "Client logins completed", SessionStats::logins);
        counter("pgferry.login.failures", "Client logins refused (authentication or admin permission)",
                SessionStats::loginFailures);
        refusals("authentication", "wrong password, unknown user, or no admin permission", SessionStats::loginFailures);
        refusals("timeout", "login not completed within pgferry.client-login-timeout", SessionStats::loginTimeouts);
        refusals("server", "the server refused (database, startup parameter, backend login) or was unreachable",
                SessionStats::loginServerRefusals);
        refusals("limit", "max-client-connections, logins per address, a disabled database, or shutting down",
                SessionStats::loginLimitRefusals);
        refusals("protocol", "malformed startup or authentication messages", SessionStats::protocolErrors);
        io.micrometer.core.instrument.Timer loginTime = io.micrometer.core.instrument.Timer.builder("pgferry.login.time")
                .description("Onboarding time, from TCP accept to ReadyForQuery")
                .serviceLevelObjectives(java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(5),
                        java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(100),
                        java.time.Duration.ofMillis(500), java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(5))
                .register(registry);
        meters.add(loginTime);
        sc.onLoginTime(nanos -> loginTime.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS));
        counter("pgferry.protocol.errors", "Clients closed for violating the wire protocol", SessionStats::protocolErrors);
        counter("pgferry.pinned.sessions", "Sessions pinned to their backend by state that cannot move",
                SessionStats::pinnedSessions);
        notifyCounter("pgferry.notify.delivered", "Notifications handed to listening clients (one per client)",
                n -> n.stats().delivered.sum());
        notifyCounter("pgferry.notify.dropped", "Notifications a client did not get: it was closed for exceeding"
                + " pgferry.notify.max-queued", n -> n.stats().dropped.sum());
        notifyCounter("pgferry.notify.listener.reconnects", "Listener connections lost and reopened; their subscribers"
                + " were told notifications may have been missed", n -> n.stats().listenerReconnects.sum());
        notifyCounter("pgferry.notify.slow.clients", "Clients closed for exceeding pgferry.notify.max-queued",
                n -> n.stats().slowClientsClosed.sum());
        meters.add(Gauge.builder("pgferry.notify.channels", server,
                        s -> s.context().notifications().channelsByDatabase().values().stream()
                                .mapToInt(Integer::intValue).sum())
                .description("Channels the listener connections LISTEN on, for the clients subscribed to them")
                .strongReference(true).register(registry));
        backendScramLogins("SCRAM-SHA-256-PLUS", true);
        backendScramLogins("SCRAM-SHA-256", false);
        ProxyStatus s = server;
        ClientCounts clients = new ClientCounts(s::context);
        sc.pools().onPool(pool -> PoolMeters.attach(registry, pool, clients, meters));
        PeerMeters.register(registry, s::peering, () -> s.context().config(), meters);
        HostMeters.register(registry, s.hostRoles(), meters);
    }

    void onStop(@Observes ShutdownEvent event) {
        for (Meter m; (m = meters.poll()) != null; ) {
            registry.remove(m);
            if (registry instanceof io.micrometer.core.instrument.composite.CompositeMeterRegistry composite) {
                for (MeterRegistry child : composite.getRegistries()) {
                    child.remove(m.getId()); // the lease-wait timer is registered on the child itself
                }
            }
        }
    }

    private void refusals(String reason, String description, ToLongFunction<SessionStats> count) {
        meters.add(FunctionCounter.builder("pgferry.login.refusals", server, s -> count.applyAsLong(s.context()))
                .description("Client logins refused, by reason: authentication (wrong password, unknown user, no admin"
                        + " permission), timeout (login timeout), server (database, startup parameter or backend login"
                        + " refused, or unreachable), limit (connection limits, a disabled database, shutting down), protocol (malformed)")
                .tag("reason", reason).register(registry));
    }

    private void backendScramLogins(String mechanism, boolean channelBound) {
        meters.add(FunctionCounter.builder("pgferry.backend.scram.logins", server,
                        s -> s.connector() == null ? 0 : s.connector().scramLogins(channelBound))
                .description("Backend logins pgferry completed with SCRAM, by mechanism: SCRAM-SHA-256-PLUS is bound to"
                        + " the server's TLS certificate (pgferry.backend.channel-binding), SCRAM-SHA-256 is not")
                .tag("mechanism", mechanism).register(registry));
    }

    private void notifyCounter(String name, String description,
            ToLongFunction<dev.pgferry.notify.NotifyHub> count) {
        meters.add(FunctionCounter.builder(name, server, s -> count.applyAsLong(s.context().notifications()))
                .description(description).register(registry));
    }

    private void counter(String name, String description, ToLongFunction<SessionStats> count) {
        meters.add(FunctionCounter.builder(name, server, s -> count.applyAsLong(s.context())).description(description)
                .register(registry));
    }
}
