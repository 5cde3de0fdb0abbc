package dev.pgferry.pool;

import dev.pgferry.backend.BackendConnector;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.BackendTarget;
import dev.pgferry.backend.PoolSlot;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.SqlState;
import io.netty.channel.EventLoop;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Backends for one (database, user): leasing and the wait queues. A FIFO wait queue with timeout and idle reuse (most
 * recently used first), sharded by event loop so that a client and the backend it leases share a thread; a backend
 * released where nobody waits moves to a loop where somebody does, if that loop needs it ({@link LoopLending}). How
 * backends are opened, retried and reserved is {@link PoolGrowth}'s; PAUSE, KILL and RECONNECT are
 * {@link PoolControl}'s; the counters are {@link PoolStats}'; following a host list's roles is {@link PoolHosts}'.
 */
public final class Pool {
    private static final Logger LOG = Logger.getLogger(Pool.class);

    private final PoolKey key;
    /** Both replaced by RELOAD ({@link #reconfigure}); read by every open and release. */
    private volatile BackendTarget target;
    private volatile PoolSettings settings;
    private volatile BackendCredentials credentials;
    private final Shard[] shards;
    private final Map<EventLoop, Shard> byLoop = new IdentityHashMap<>();
    private final FreshBackendListener fresh;
    private final PoolStats stats;
    private final PoolGrowth growth;
    private final LoopLending lending;
    final PoolControl control;
    /** What the pool does for a host list; without one, every backend fits. */
    /** Replaced when a RELOAD changes the database's host list ({@link #reroute}). */
    volatile PoolHosts hosts;

    /** A pool whose fresh backends nobody learns from (tests of the pool alone). */
    public Pool(PoolKey key, BackendTarget target, PoolSettings settings, BackendConnector connector,
            BackendCredentials credentials, List<EventLoop> loops, BackendLimit databaseLimit, BackendLimit userLimit) {
        this(key, target, settings, connector, credentials, loops, databaseLimit, userLimit, FreshBackendListener.NONE);
    }

    public Pool(PoolKey key, BackendTarget target, PoolSettings settings, BackendConnector connector,
            BackendCredentials credentials, List<EventLoop> loops, BackendLimit databaseLimit, BackendLimit userLimit,
            FreshBackendListener fresh) {
        this(key, target, settings, connector, credentials, loops, databaseLimit, userLimit, fresh, null);
    }

    /**
     * A pool over the hosts of {@code roster} (null: the one server of {@code target}); {@code target} still names the
     * database the backends open.
     */
    public Pool(PoolKey key, BackendTarget target, PoolSettings settings, BackendConnector connector,
            BackendCredentials credentials, List<EventLoop> loops, BackendLimit databaseLimit, BackendLimit userLimit,
            FreshBackendListener fresh, HostRoster roster) {
        this.key = key;
        this.target = target;
        this.settings = settings;
        this.credentials = credentials;
        this.fresh = fresh;
        this.shards = new Shard[loops.size()];
        this.stats = new PoolStats(shards);
        this.growth = new PoolGrowth(this, connector, databaseLimit, userLimit);
        this.lending = new LoopLending(this, shards);
        this.control = new PoolControl(new EveryLoop(this), fresh);
        this.hosts = new PoolHosts(this, roster);
        for (int i = 0; i < shards.length; i++) {
            Shard s = new Shard(this, loops.get(i));
            shards[i] = s;
            byLoop.put(s.loop, s);
            s.loop.scheduleAtFixedRate(() -> maintain(s), 1, 1, TimeUnit.SECONDS);
            // one sweep per shard instead of a timer per waiter: the queue is FIFO, only its head can be due
            long sweep = settings.waitSweepMillis();
            s.loop.scheduleAtFixedRate(() -> sweepWaiters(s), sweep, sweep, TimeUnit.MILLISECONDS);
        }
        hosts.watch();
    }

    /** The database's hosts and their roles; null for a database of one host. */
    public HostRoster roster() {
        return hosts.roster;
    }

    public PoolKey key() {
        return key;
    }

    public BackendTarget target() {
        return target;
    }

    public PoolSettings settings() {
        return settings;
    }

    public BackendCredentials credentials() {
        return credentials;
    }

    /** Credentials learned later, e.g. SCRAM keys recovered from a client's proof. */
    public void credentials(BackendCredentials c) {
        this.credentials = c;
        HostRoster roster = hosts.roster;
        if (roster != null) {
            roster.learned(c, target.database());
        }
    }

    /** The counters, and what the shards hold (SHOW POOLS, SERVERS, metrics). */
    public PoolStats stats() {
        return stats;
    }

    /** Opening backends and the reserve; the backend limits and the last connect's outcome. */
    public PoolGrowth growth() {
        return growth;
    }

    /** PAUSE, RESUME, KILL and RECONNECT. */
    public PoolControl control() {
        return control;
    }

    /**
     * RELOAD's new settings and server for this pool, applied without disturbing a client: a new server is used by the
     * backends opened from now on and the old ones are closed as they are released, as {@link PoolControl#reconnect} does; a
     * smaller size closes backends as they are released or found idle until the pool is within it (see
     * {@link #expired}); a larger one serves the clients waiting now.
     */
    public void reconfigure(BackendTarget newTarget, PoolSettings newSettings) {
        boolean moved = !newTarget.equals(target);
        settings = newSettings;
        target = newTarget;
        if (moved) {
            control.reconnect();
        }
        onEveryLoop(s -> {
            closeIdleIf(s, c -> overSize());
            growth.grow(s);
        });
    }

    /**
     * A RELOAD changed the database's host list, target role or lag limit ({@code roster}, null for one server): new
     * backends go by it at once; those opened over the old list are closed when idle or released.
     */
    public void reroute(HostRoster roster) {
        PoolHosts next = new PoolHosts(this, roster);
        hosts = next;
        next.watch();
        onEveryLoop(s -> {
            closeIdleIf(s, c -> !next.fits(c));
            growth.grow(s);
        });
    }

    /** Asks for a backend; must be called on {@code loop}. The waiter is called back on the same loop, maybe at once. */
    public void acquire(EventLoop loop, LeaseWaiter waiter) {
        Shard s = shard(loop);
        boolean paused = control.paused();
        if (!paused) {
            ServerConnection c = takeIdle(s);
            if (c != null) {
                lease(s, c, waiter, 0);
                return;
            }
        }
        s.enqueue(waiter);
        if (!paused) {
            growth.grow(s);
            if (s.waiters.size() > s.connecting) {
                lending.askOthersForIdle(s);
            }
        }
    }

    /**
     * Takes {@code waiter} out of the wait queue (a cancel of the query it waits with); must be called on
     * {@code loop}, the one it called {@link #acquire} on. False when it does not wait there: it has its backend
     * already, or its wait is over. A connect started for it goes on and serves the next waiter, or the idle list.
     */
    public boolean withdraw(EventLoop loop, LeaseWaiter waiter) {
        return shard(loop).withdraw(waiter);
    }

    /**
     * Takes in a backend opened outside the pool (a passthrough login) if there is room; closes it otherwise.
     * Called on the backend's loop.
     */
    public void adopt(ServerConnection c) {
        fresh.opened(c, control.paused());
        growth.connectedOutside();
        if (growth.claimSlot(settings.maxSize()) < 0) {
            PoolHosts.closed(c);
            c.close();
            return;
        }
        Shard s = shard(c.eventLoop());
        c.poolSlot(s);
        offer(s, c);
    }

    /** Opens a backend whose authentication the client answers through {@code relay} (passthrough login). */
    public io.netty.util.concurrent.Future<ServerConnection> openWithRelay(EventLoop loop, BackendCredentials.Relay relay) {
        return hosts.openWithRelay(loop, relay);
    }

    /**
     * Opens a backend to this pool's server as its user that the pool neither counts nor hands out: the LISTEN/NOTIFY
     * listener connection, opened and authenticated like any of the pool's. Completes on {@code loop}.
     */
    public io.netty.util.concurrent.Future<ServerConnection> openUnpooled(EventLoop loop,
            Map<String, String> startupParams) {
        return growth.connector().connect(loop, target, credentials, startupParams);
    }

    /** Gives back a backend at ReadyForQuery 'I' with nothing pending; called on its loop. */
    public void release(ServerConnection c) {
        PoolSlot s = c.poolSlot();
        if (s == null) {
            c.close();
            return;
        }
        s.release(c);
    }

    /** Closes a backend whose state is unknown (client vanished mid-transaction, error); called on its loop. */
    public void discard(ServerConnection c) {
        PoolSlot s = c.poolSlot();
        if (s != null) {
            s.discard(c);
            return;
        }
        c.listener(null);
        discardCounted(c);
    }

    /** {@link #release} of a backend counted by shard {@code s}. */
    void released(Shard s, ServerConnection c) {
        s.leased--;
        c.listener(null);
        if (c.cancelInFlight()) {
            // a CancelRequest forwarded for the last client may still reach this backend: the next client's query
            // could be the one it stops, so the backend waits outside the pool until the server is done with it
            // (PgBouncer's SV_BEING_CANCELED)
            s.beingCanceled.add(c);
            c.whenNoCancelInFlight(() -> {
                s.beingCanceled.remove(c);
                putBack(s, c);
            });
            return;
        }
        putBack(s, c);
    }

    /** {@link #discard} of a backend counted by shard {@code s}. */
    void discarded(Shard s, ServerConnection c) {
        s.leased--;
        c.listener(null);
        discardCounted(c);
    }

    /** A released backend goes to a waiter or idle, or (broken, too old) away. */
    private void putBack(Shard s, ServerConnection c) {
        if (c.isBroken() || expired(c)) {
            discardCounted(c);
            return;
        }
        c.touch();
        offer(s, c);
    }

    /** A backend {@link PoolGrowth} opened for shard {@code s} logged in. */
    void opened(Shard s, ServerConnection c) {
        if (control.obsolete(c.createdNanos())) {
            discardCounted(c); // begun before a RECONNECT; waiters here get a replacement
            return;
        }
        fresh.opened(c, control.paused());
        offer(s, c);
    }

    /** Whether the pool can open backends itself (not in passthrough without a secret). */
    boolean canOpen() {
        return !(credentials instanceof BackendCredentials.Relay);
    }

    ServerConnection takeIdle(Shard s) {
        ServerConnection c;
        while ((c = s.popIdle()) != null) {
            if (!c.isBroken() && !expired(c)) {
                return c;
            }
            discardCounted(c);
        }
        return null;
    }

    /** Past max-lifetime, opened before a RECONNECT, beyond a size RELOAD made smaller, or its host's role changed. */
    private boolean expired(ServerConnection c) {
        return System.nanoTime() - c.createdNanos() > settings.maxLifetime().toNanos()
                || control.obsolete(c.createdNanos()) || overSize() || growth.databaseLimit.overShare()
                || !hosts.fits(c);
    }

    /** More backends open than the size (and reserve) allow: only after RELOAD made the pool smaller. */
    private boolean overSize() {
        PoolSettings p = settings;
        return growth.total() > p.maxSize() + (p.reserveEnabled() ? p.reserveSize() : 0);
    }

    private void lease(Shard s, ServerConnection c, LeaseWaiter waiter, long waitedNanos) {
        s.leased++;
        stats.leased(waitedNanos);
        c.onIdleClose(null);
        waiter.onLease(c);
    }

    /**
     * A free backend on shard {@code s}. Waiters may release synchronously (a login that only needed to
     * learn the server's parameters, a client that left while waiting), which would re-enter here once per
     * waiter; a trampoline keeps the stack flat however many clients wait.
     */
    void offer(Shard s, ServerConnection c) {
        s.offers.addLast(c);
        if (s.offering) {
            return;
        }
        s.offering = true;
        try {
            ServerConnection next;
            while ((next = s.offers.pollFirst()) != null) {
                offerNow(s, next);
            }
        } finally {
            s.offering = false;
        }
    }

    /** To a waiter here, else to a loop where clients wait, else idle; closed while paused. */
    private void offerNow(Shard s, ServerConnection c) {
        if (control.paused()) {
            discardCounted(c);
            return;
        }
        Shard.Waiting w = s.nextWaiter();
        if (w != null) {
            lease(s, c, w.waiter, System.nanoTime() - w.sinceNanos);
            return;
        }
        Shard to = lending.needing(s);
        if (to != null) {
            lending.migrate(c, to);
            return;
        }
        park(s, c);
        lending.lendWhenDue(s);
    }

    private void park(Shard s, ServerConnection c) {
        c.poolSlot(s);
        c.onIdleClose(() -> {
            if (s.removeIdle(c)) {
                forget(c);
                LOG.debugf("%s closed while idle", c);
            }
        });
        s.pushIdle(c);
    }

    void serveWaiters(Shard s) {
        ServerConnection c;
        while (!s.waiters.isEmpty() && (c = takeIdle(s)) != null) {
            offer(s, c);
        }
        growth.grow(s);
    }

    /** The shard's periodic look at its queue: waiters past query-wait-timeout get their error, then the reserve. */
    private void sweepWaiters(Shard s) {
        long limit = settings.queryWaitTimeout().toNanos();
        long now = System.nanoTime();
        Shard.Waiting w;
        while ((w = s.waiters.peekFirst()) != null && now - w.sinceNanos >= limit) {
            timeout(s, w);
        }
        if (settings.reserveEnabled()) {
            growth.openReserve(s, now);
        }
    }

    private void timeout(Shard s, Shard.Waiting w) {
        if (!s.remove(w)) {
            return;
        }
        stats.waitTimeouts.increment();
        w.waiter.onLeaseFailed(new PoolException(SqlState.TOO_MANY_CONNECTIONS,
                "pgferry: query_wait_timeout: no server connection for pool \"" + key + "\" within "
                        + settings.queryWaitTimeout().toSeconds() + " s",
                false));
    }

    void discardCounted(ServerConnection c) {
        forget(c);
        c.close();
        // capacity freed: let loops with waiters open a replacement
        for (Shard o : shards) {
            if (o.waitingCount.get() > 0) {
                o.loop.execute(() -> growth.grow(o));
            }
        }
    }

    /** Closes a backend no shard counts (its move to another loop failed), giving its room back. */
    void dropUncounted(ServerConnection c) {
        PoolHosts.closed(c);
        growth.releaseSlot();
        c.close();
    }

    private void forget(ServerConnection c) {
        if (c.poolSlot() != null) {
            c.poolSlot(null);
            PoolHosts.closed(c);
            growth.releaseSlot();
        }
    }

    /** Closes the idle backends of {@code s} that {@code which} picks; on its loop. */
    void closeIdleIf(Shard s, java.util.function.Predicate<ServerConnection> which) {
        for (ServerConnection c : s.idle.toArray(new ServerConnection[0])) {
            if (which.test(c) && s.removeIdle(c)) {
                discardCounted(c);
            }
        }
    }

    private void maintain(Shard s) {
        long now = System.nanoTime();
        long idleLimit = settings.idleTimeout().toNanos();
        closeIdleIf(s, c -> (now - c.lastUsedNanos() > idleLimit && growth.total() > settings.minIdle())
                || expired(c) || c.isBroken());
        if (s == shards[0]) {
            growth.keepMinIdle(s);
        }
        if (!s.waiters.isEmpty() && !control.paused()) {
            serveWaiters(s);
        }
    }

    void onEveryLoop(Consumer<Shard> action) {
        for (Shard s : shards) {
            s.loop.execute(() -> action.accept(s));
        }
    }

    private Shard shard(EventLoop loop) {
        Shard s = byLoop.get(loop);
        if (s == null) {
            throw new IllegalStateException("not a pgferry event loop: " + loop);
        }
        return s;
    }

    /**
     * {@code beingCanceled}: backends given back while a cancel forwarded for them is in flight, held out of the pool
     * until it is over (not active, not idle); {@code cancelsForwarded}: CancelRequests of this pool's clients
     * forwarded to the server and not yet over, each on a connection of its own.
     */
    public record PoolCounts(int idle, int active, int connecting, int waiting, long maxWaitNanos, int beingCanceled,
            int cancelsForwarded) {}
}
