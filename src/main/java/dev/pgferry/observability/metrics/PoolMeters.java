package dev.pgferry.observability.metrics;

import dev.pgferry.pool.Pool;
import dev.pgferry.session.ClientCounts;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * The meters of one pool, tagged {@code database} and {@code user}. Registered on the pool's first lease, not at
 * its creation: a pool exists as soon as a client names a (database, user) in its startup packet, before it has
 * authenticated, and such names must not become series. Counters read the pool's own {@link LongAdder}s at scrape
 * time; only the lease-wait histogram is fed from the hot path.
 */
final class PoolMeters {
    /** Bucket bounds of the lease-wait histogram: an idle backend is microseconds, a fresh connect milliseconds. */
    private static final Duration[] WAIT_BUCKETS = {Duration.ofNanos(100_000), Duration.ofMillis(1),
            Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30)};

    private final MeterRegistry registry;
    private final Pool pool;
    private final ClientCounts clients;
    private final Tags tags;
    private final Queue<Meter> registered;
    private volatile Timer leaseWait;

    private PoolMeters(MeterRegistry registry, Pool pool, ClientCounts clients, Queue<Meter> registered) {
        this.registry = registry;
        this.registered = registered;
        this.pool = pool;
        this.clients = clients;
        this.tags = Tags.of("database", pool.key().database(), "user", pool.key().user());
    }

    /** Hooks the pool; its meters appear with its first lease, and are added to {@code registered}. */
    static void attach(MeterRegistry registry, Pool pool, ClientCounts clients, Queue<Meter> registered) {
        PoolMeters m = new PoolMeters(registry, pool, clients, registered);
        pool.stats().leaseWaitRecorder(m::recordLeaseWait);
    }

    private void recordLeaseWait(long nanos) {
        Timer t = leaseWait;
        if (t == null) {
            t = registerAll();
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    private synchronized Timer registerAll() {
        if (leaseWait != null) {
            return leaseWait;
        }
        clientGauge("pgferry.clients.active", "Clients holding a backend", c -> c.active());
        clientGauge("pgferry.clients.waiting", "Clients waiting for a backend", c -> c.waiting());
        clientGauge("pgferry.clients.idle", "Logged-in clients neither holding nor waiting for a backend",
                c -> c.idle());
        gauge("pgferry.backends.active", "Backends leased to a client", p -> p.stats().counts().active(), null);
        gauge("pgferry.backends.idle", "Backends idle in the pool", p -> p.stats().counts().idle(), null);
        gauge("pgferry.backends.connecting", "Backends being opened", p -> p.stats().counts().connecting(), null);
        gauge("pgferry.backends.being.canceled",
                "Backends held out of the pool until a cancel forwarded for them is over",
                p -> p.stats().counts().beingCanceled(), null);
        gauge("pgferry.backends.total", "Backends open or being opened", p -> p.growth().total(), null);
        gauge("pgferry.pool.max.wait", "How long the longest-waiting client of this pool has waited",
                p -> p.stats().counts().maxWaitNanos() / 1e9, "seconds");
        gauge("pgferry.pool.paused", "1 while the pool is paused (PAUSE on the admin console)",
                p -> p.control().paused() ? 1 : 0, null);
        counter("pgferry.leases", "Backends handed to clients", pool.stats().leases, null);
        counter("pgferry.transactions", "Transactions completed (ReadyForQuery 'I' relayed to a client)",
                pool.stats().transactions, null);
        counter("pgferry.queries", "Queries completed (ReadyForQuery relayed to a client: a Query, a Sync)",
                pool.stats().queries, null);
        counter("pgferry.received", "Bytes received from clients", pool.stats().bytesFromClients, "bytes");
        counter("pgferry.sent", "Bytes relayed from backends to clients", pool.stats().bytesFromServers, "bytes");
        counter("pgferry.pool.timeouts", "Clients that gave up waiting for a backend (query-wait-timeout)",
                pool.stats().waitTimeouts, null);
        counter("pgferry.client.idle.timeouts", "Clients closed holding no backend (client-idle-timeout)",
                pool.stats().clientIdleTimeouts, null);
        counter("pgferry.idle.transaction.timeouts",
                "Clients closed idle inside a transaction, their backend rolled back (idle-transaction-timeout)",
                pool.stats().idleTransactionTimeouts, null);
        counter("pgferry.backend.migrations", "Idle backends moved to another event loop where clients waited",
                pool.stats().migrations, null);
        counter("pgferry.backend.reserve.opened",
                "Backends opened beyond the pool's size for clients that waited reserve-timeout (PgBouncer's reserve pool)",
                pool.stats().reserveOpened, null);
        counter("pgferry.backend.connect.errors", "Failed attempts to open a backend", pool.stats().connectErrors, null);
        leaseWait = Timer.builder("pgferry.lease.wait")
                .description("Time a client waited for a backend, 0 when one was idle")
                .tags(tags)
                .serviceLevelObjectives(WAIT_BUCKETS)
                .register(direct(registry));
        registered.add(leaseWait);
        return leaseWait;
    }

    /**
     * The lease-wait timer is recorded on every lease: registered on the concrete registry behind Quarkus's
     * composite, so a record is one histogram update rather than a walk over the composite's children.
     */
    private static MeterRegistry direct(MeterRegistry registry) {
        if (registry instanceof io.micrometer.core.instrument.composite.CompositeMeterRegistry composite
                && composite.getRegistries().size() == 1) {
            return composite.getRegistries().iterator().next();
        }
        return registry;
    }

    private void clientGauge(String name, String description, ToIntFunction<ClientCounts.Counts> f) {
        registered.add(Gauge.builder(name, clients, c -> f.applyAsInt(c.of(pool.key()))).description(description)
                .tags(tags).strongReference(true).register(registry));
    }

    private void gauge(String name, String description, ToDoubleFunction<Pool> f, String unit) {
        registered.add(Gauge.builder(name, pool, f).description(description).tags(tags).baseUnit(unit)
                .strongReference(true).register(registry));
    }

    private void counter(String name, String description, LongAdder adder, String unit) {
        registered.add(FunctionCounter.builder(name, adder, LongAdder::sum).description(description).tags(tags)
                .baseUnit(unit).register(registry));
    }
}
