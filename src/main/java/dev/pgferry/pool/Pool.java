package dev.pgferry.pool;

import dev.pgferry.backend.BackendConnector;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.BackendException;
import dev.pgferry.backend.BackendTarget;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.SqlState;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import org.jboss.logging.Logger;

/**
 * Backends for one (database, user): at most {@code maxSize} open, and {@code reserveSize} more for clients that
 * waited {@code reserveTimeout} (see {@link #openReserve}), FIFO wait queue with timeout, idle
 * reuse (most recently used first). Sharded by event loop so that a client and the backend it leases
 * share a thread; a backend released where nobody waits moves to a loop where somebody does, if that
 * loop needs it: it has no backend of its own out (starved) or its oldest client has waited
 * {@link LoopBalance#REBALANCE_AFTER_NANOS}, and if neither yet, is offered again when the waiter is due (see
 * {@link #lendWhenDue}); a loop with two or more idle backends also gives to any loop with waiters
 * (see {@link #askOthersForIdle}). Each move costs two
 * epoll_ctl calls and two hand-offs between threads, so under steady load, where every loop's own backends
 * come back within microseconds, backends stay where they are.
 */
public final class Pool {
    private static final Logger LOG = Logger.getLogger(Pool.class);

    private final PoolKey key;
    /** Both replaced by RELOAD ({@link #reconfigure}); read by every open and release. */
    private volatile BackendTarget target;
    private volatile PoolSettings settings;
    private final BackendConnector connector;
    private final Shard[] shards;
    private final Map<EventLoop, Shard> byLoop = new IdentityHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicInteger cancelsForwarded = new AtomicInteger();
    /** Backends of every pool of this database, bounded by pgferry.pool.max-db-connections. */
    private final BackendLimit databaseLimit;
    /** Backends of every pool of this user, bounded by pgferry.pool.max-user-connections (PgBouncer's max_user_connections). */
    private final BackendLimit userLimit;
    private volatile BackendCredentials credentials;
    private volatile Map<String, String> serverParams;
    private volatile String lastError;
    private volatile long lastConnectOkNanos;
    private volatile PoolException lastFailure;
    private volatile long backoffNanos;
    private volatile long backoffUntilNanos;
    private volatile boolean paused;
    /** RECONNECT: backends opened before this {@link System#nanoTime()} stamp are closed, once free (see {@link #reconnect}). */
    private volatile long reconnectStamp;
    private volatile boolean reconnectRequested;
    /** Set by KILL and RECONNECT: the next login learns the server's parameters from a new backend again. */
    private volatile boolean serverParamsStale;
    /** Completed once a paused pool has no backend left open (see {@link #pause}). */
    private volatile CompletableFuture<Void> drained = CompletableFuture.completedFuture(null);
    private volatile LongConsumer leaseWaitRecorder = nanos -> {};
    public final LongAdder leases = new LongAdder();
    public final LongAdder waitTimeouts = new LongAdder();
    /** Clients closed by pgferry.client-idle-timeout and by pgferry.pool.idle-transaction-timeout. */
    public final LongAdder clientIdleTimeouts = new LongAdder();
    public final LongAdder idleTransactionTimeouts = new LongAdder();
    public final LongAdder connectErrors = new LongAdder();
    public final LongAdder totalWaitNanos = new LongAdder();
    public final LongAdder transactions = new LongAdder();
    /** Backends opened beyond the pool's size for clients that waited pgferry.pool.reserve-timeout. */
    public final LongAdder reserveOpened = new LongAdder();
    /** Idle backends moved to another event loop where clients were waiting. */
    public final LongAdder migrations = new LongAdder();
    /** Interned parameter sets of this pool: override-set signatures, startup sets (see SessionParameters). */
    public final java.util.concurrent.ConcurrentHashMap<Object, Object> parameterSignatures =
            new java.util.concurrent.ConcurrentHashMap<>();
    public final LongAdder queries = new LongAdder();
    public final LongAdder bytesFromClients = new LongAdder();
    public final LongAdder bytesFromServers = new LongAdder();

    public Pool(PoolKey key, BackendTarget target, PoolSettings settings, BackendConnector connector,
            BackendCredentials credentials, List<EventLoop> loops, BackendLimit databaseLimit, BackendLimit userLimit) {
        this.key = key;
        this.databaseLimit = databaseLimit;
        this.userLimit = userLimit;
        this.target = target;
        this.settings = settings;
        this.connector = connector;
        this.credentials = credentials;
        this.shards = new Shard[loops.size()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new Shard(loops.get(i));
            byLoop.put(loops.get(i), shards[i]);
            Shard s = shards[i];
            s.loop.scheduleAtFixedRate(() -> maintain(s), 1, 1, TimeUnit.SECONDS);
            // one sweep per shard instead of a timer per waiter: the queue is FIFO, only its head can be due
            long sweep = settings.waitSweepMillis();
            s.loop.scheduleAtFixedRate(() -> sweepWaiters(s), sweep, sweep, TimeUnit.MILLISECONDS);
        }
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

    /** The parameters a fresh backend reports, learned from the first one; null until then. */
    public Map<String, String> serverParams() {
        return serverParams;
    }

    /**
     * Whether a login can be welcomed with {@link #serverParams} without a backend: they are known, and no KILL or
     * RECONNECT has made them stale since (PgBouncer frees the pool's welcome message then, so that its next login
     * waits for a server to report them).
     */
    public boolean serverParamsKnown() {
        return serverParams != null && !serverParamsStale;
    }

    /**
     * Learns the server's parameters from {@code c} unless they are known and fresh; stale ones only once the pool
     * is resumed, not from a backend that began opening before the KILL.
     */
    private void learnServerParams(ServerConnection c) {
        if (serverParams == null || (serverParamsStale && !paused)) {
            serverParams = Map.copyOf(c.reported);
            serverParamsStale = false;
        }
    }

    public BackendCredentials credentials() {
        return credentials;
    }

    /** Credentials learned later, e.g. SCRAM keys recovered from a client's proof. */
    public void credentials(BackendCredentials c) {
        this.credentials = c;
    }

    /** Startup (name NUL value) pairs the server accepted, with its spelling of reported values. */
    private final java.util.concurrent.ConcurrentHashMap<String, String> checkedStartup =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Whether every startup parameter was accepted by the server before. */
    public boolean startupChecked(Map<String, String> params) {
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (!checkedStartup.containsKey(e.getKey() + '\0' + e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** Records that the server accepted {@code name = value} and reports it as {@code normalized}. */
    public void startupChecked(String name, String value, String normalized) {
        if (checkedStartup.size() > 10_000) {
            checkedStartup.clear(); // bounded: unique application names must not grow this forever
        }
        checkedStartup.put(name + '\0' + value, normalized);
    }

    /** The startup parameters with the server's spelling of the values it reports. */
    public Map<String, String> normalizedStartup(Map<String, String> params) {
        if (params.isEmpty()) {
            return params;
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, checkedStartup.getOrDefault(k + '\0' + v, v)));
        return out;
    }

    public String lastError() {
        return lastError;
    }

    public long lastConnectOkNanos() {
        return lastConnectOkNanos;
    }

    /**
     * PAUSE: no backend is handed out until {@link #resume}; clients asking for one wait in the queue (their wait
     * timeout still applies). Idle backends are closed now, and every backend coming back from its client or
     * finishing its connect is closed instead of parked, so that the server can be restarted. The future
     * completes, on whichever thread closes the last one, once this pool has no backend open; at once if it has
     * none. Pausing a paused pool returns the drain already under way. A pool that only gets backends from
     * passthrough logins gets none back until a client logs in again after RESUME.
     */
    public synchronized CompletableFuture<Void> pause() {
        if (paused) {
            return drained;
        }
        drained = new CompletableFuture<>(); // written before paused: a loop that sees paused sees this future
        paused = true;
        for (Shard s : shards) {
            s.loop.execute(() -> closeIdle(s));
        }
        if (total.get() == 0) {
            drained.complete(null);
        }
        return drained;
    }

    /**
     * RESUME: waiting clients get fresh backends, opened on demand. A drain still under way completes
     * exceptionally with a {@link java.util.concurrent.CancellationException}.
     */
    public synchronized void resume() {
        if (!paused) {
            return;
        }
        paused = false;
        drained.cancel(false);
        for (Shard s : shards) {
            s.loop.execute(() -> serveWaiters(s));
        }
    }

    public boolean paused() {
        return paused;
    }

    /**
     * KILL, as PgBouncer's kill_pool: the pool is paused ({@link #pause}: its idle backends are closed, and every one
     * coming back is closed instead of parked) and the backends held out of the pool for a cancel in flight are closed
     * now; the ones clients hold are closed by their sessions, which KILL closes. RESUME undoes the pause. Logins wait
     * for a backend until then, as the first login of a new pool does (see {@link #serverParamsKnown}).
     */
    public synchronized void kill() {
        pause();
        serverParamsStale = true; // written before any backend can open again: RESUME comes after
        for (Shard s : shards) {
            s.loop.execute(() -> {
                for (ServerConnection c : s.beingCanceled) {
                    c.close(); // put back, and so discarded, once the cancel is over
                }
            });
        }
    }

    /**
     * RECONNECT, as PgBouncer's: every backend open now, or being opened, is closed instead of reused: the idle ones
     * now, each held by a client when it is released (in session mode when its client leaves), each being opened
     * once it is ready. No client is disturbed; new backends are opened as needed, and the server parameters new
     * logins are welcomed with are learned again from the first of them (see {@link #serverParamsKnown}).
     */
    public void reconnect() {
        reconnectStamp = System.nanoTime(); // written before the flag: a loop that sees the flag sees the stamp
        reconnectRequested = true;
        serverParamsStale = true; // PgBouncer resets the welcome message too: a new server may report other values
        for (Shard s : shards) {
            s.loop.execute(() -> {
                for (ServerConnection c : s.idle.toArray(new ServerConnection[0])) {
                    if (obsolete(c) && s.removeIdle(c)) {
                        discardCounted(c);
                    }
                }
            });
        }
    }

    /**
     * RELOAD's new settings and server for this pool, applied without disturbing a client: a new server is used by the
     * backends opened from now on and the old ones are closed as they are released, as {@link #reconnect} does; a
     * smaller size closes backends as they are released or found idle until the pool is within it (see
     * {@link #expired}); a larger one serves the clients waiting now.
     */
    public void reconfigure(BackendTarget newTarget, PoolSettings newSettings) {
        boolean moved = !newTarget.equals(target);
        settings = newSettings;
        target = newTarget;
        if (moved) {
            reconnect();
        }
        for (Shard s : shards) {
            s.loop.execute(() -> {
                for (ServerConnection c : s.idle.toArray(new ServerConnection[0])) {
                    if (overSize() && s.removeIdle(c)) {
                        discardCounted(c);
                    }
                }
                grow(s);
            });
        }
    }

    /** The database's and the user's backend limits this pool counts against (RELOAD sets new maxima on them). */
    public BackendLimit databaseLimit() {
        return databaseLimit;
    }

    public BackendLimit userLimit() {
        return userLimit;
    }

    /** More backends open than the size (and reserve) allow: only after RELOAD made the pool smaller. */
    private boolean overSize() {
        PoolSettings p = settings;
        return total.get() > p.maxSize() + (p.reserveEnabled() ? p.reserveSize() : 0);
    }

    /** Opened before the last {@link #reconnect}. */
    private boolean obsolete(ServerConnection c) {
        return reconnectRequested && c.createdNanos() - reconnectStamp <= 0;
    }

    /** Asks for a backend; must be called on {@code loop}. The waiter is called back on the same loop, maybe at once. */
    public void acquire(EventLoop loop, LeaseWaiter waiter) {
        Shard s = shard(loop);
        if (!paused) {
            ServerConnection c = takeIdle(s);
            if (c != null) {
                lease(s, c, waiter, 0);
                return;
            }
        }
        Shard.Waiting w = new Shard.Waiting(waiter);
        s.waiters.addLast(w);
        s.noteOldestWaiter();
        s.waitingCount.incrementAndGet();
        if (!paused) {
            grow(s);
            if (s.waiters.size() > s.connecting) {
                askOthersForIdle(s);
            }
        }
    }

    /**
     * Takes {@code waiter} out of the wait queue (a cancel of the query it waits with); must be called on
     * {@code loop}, the one it called {@link #acquire} on. False when it does not wait there: it has its backend
     * already, or its wait is over. A connect started for it goes on and serves the next waiter, or the idle list.
     */
    public boolean withdraw(EventLoop loop, LeaseWaiter waiter) {
        Shard s = shard(loop);
        for (java.util.Iterator<Shard.Waiting> it = s.waiters.iterator(); it.hasNext();) {
            Shard.Waiting w = it.next();
            if (w.waiter == waiter && !w.done) {
                w.done = true;
                it.remove();
                s.noteOldestWaiter();
                s.waitingCount.decrementAndGet();
                return true;
            }
        }
        return false;
    }

    /**
     * Takes in a backend opened outside the pool (a passthrough login) if there is room; closes it otherwise.
     * Called on the backend's loop.
     */
    public void adopt(ServerConnection c) {
        learnServerParams(c);
        lastConnectOkNanos = System.nanoTime();
        if (claimSlot(settings.maxSize()) < 0) {
            c.close();
            return;
        }
        Shard s = shard(c.eventLoop());
        c.poolSlot(s);
        offer(s, c);
    }

    /** Opens a backend whose authentication the client answers through {@code relay} (passthrough login). */
    public io.netty.util.concurrent.Future<ServerConnection> openWithRelay(EventLoop loop, BackendCredentials.Relay relay) {
        return connector.connect(loop, target, relay, Map.of());
    }

    /** Whether the pool can open backends itself (not in passthrough without a secret). */
    private boolean canOpen() {
        return !(credentials instanceof BackendCredentials.Relay);
    }

    /** Gives back a backend at ReadyForQuery 'I' with nothing pending; called on its loop. */
    public void release(ServerConnection c) {
        Shard s = (Shard) c.poolSlot();
        if (s == null) {
            c.close();
            return;
        }
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

    /** A released backend goes to a waiter or idle, or (broken, too old) away. */
    private void putBack(Shard s, ServerConnection c) {
        if (c.isBroken() || expired(c)) {
            discardCounted(c);
            return;
        }
        c.touch();
        offer(s, c);
    }

    /** Closes a backend whose state is unknown (client vanished mid-transaction, error); called on its loop. */
    public void discard(ServerConnection c) {
        Shard s = (Shard) c.poolSlot();
        if (s != null) {
            s.leased--;
        }
        c.listener(null);
        discardCounted(c);
    }

    public int total() {
        return total.get();
    }

    /** Counts for SHOW POOLS and metrics; read from any thread, so approximate. */
    public PoolCounts counts() {
        int idle = 0, waiting = 0, leased = 0, connecting = 0, beingCanceled = 0;
        long maxWait = 0;
        long now = System.nanoTime();
        for (Shard s : shards) {
            idle += s.idleCount;
            waiting += s.waitingCount.get();
            leased += s.leased;
            connecting += s.connecting;
            beingCanceled += s.beingCanceled.size();
            long since = s.oldestWaitSince;
            if (since != 0 && s.waitingCount.get() > 0) {
                maxWait = Math.max(maxWait, now - since);
            }
        }
        return new PoolCounts(idle, leased, connecting, waiting, maxWait, beingCanceled, cancelsForwarded.get());
    }

    /** Called on every lease with the nanoseconds the client waited (0 when a backend was idle); for a histogram. */
    public void leaseWaitRecorder(LongConsumer recorder) {
        this.leaseWaitRecorder = recorder;
    }

    /** The idle backends, each shard's list copied on its own loop; for SHOW SERVERS, not for the hot path. */
    public CompletableFuture<List<ServerConnection>> idleConnections() {
        return connections(s -> s.idle);
    }

    /** The backends held out of the pool until a cancel forwarded for them is over (see {@link #release}). */
    public CompletableFuture<List<ServerConnection>> beingCanceledConnections() {
        return connections(s -> s.beingCanceled);
    }

    /** A copy of each shard's {@code which}, taken on the shard's own loop. */
    private CompletableFuture<List<ServerConnection>> connections(
            java.util.function.Function<Shard, java.util.Collection<ServerConnection>> which) {
        List<ServerConnection> all = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<?>[] parts = new CompletableFuture<?>[shards.length];
        for (int i = 0; i < shards.length; i++) {
            Shard s = shards[i];
            CompletableFuture<Void> part = new CompletableFuture<>();
            s.loop.execute(() -> {
                all.addAll(which.apply(s));
                part.complete(null);
            });
            parts[i] = part;
        }
        return CompletableFuture.allOf(parts).thenApply(v -> List.copyOf(all));
    }

    /**
     * {@code beingCanceled}: backends given back while a cancel forwarded for them is in flight, held out of the pool
     * until it is over (not active, not idle); {@code cancelsForwarded}: CancelRequests of this pool's clients
     * forwarded to the server and not yet over, each on a connection of its own.
     */
    public record PoolCounts(int idle, int active, int connecting, int waiting, long maxWaitNanos, int beingCanceled,
            int cancelsForwarded) {}

    /** A client's CancelRequest is forwarded to one of this pool's backends; {@link #cancelOver()} when it is over. */
    public void cancelForwarded() {
        cancelsForwarded.incrementAndGet();
    }

    public void cancelOver() {
        cancelsForwarded.decrementAndGet();
    }

    private Shard shard(EventLoop loop) {
        Shard s = byLoop.get(loop);
        if (s == null) {
            throw new IllegalStateException("not a pgferry event loop: " + loop);
        }
        return s;
    }

    private ServerConnection takeIdle(Shard s) {
        ServerConnection c;
        while ((c = s.popIdle()) != null) {
            if (!c.isBroken() && !expired(c)) {
                return c;
            }
            discardCounted(c);
        }
        return null;
    }

    /** Past pgferry.pool.max-lifetime, opened before a RECONNECT, or beyond a size RELOAD made smaller. */
    private boolean expired(ServerConnection c) {
        return System.nanoTime() - c.createdNanos() > settings.maxLifetime().toNanos() || obsolete(c) || overSize()
                || databaseLimit.overShare();
    }

    private void lease(Shard s, ServerConnection c, LeaseWaiter waiter, long waitedNanos) {
        s.leased++;
        leases.increment();
        totalWaitNanos.add(waitedNanos);
        leaseWaitRecorder.accept(waitedNanos);
        c.onIdleClose(null);
        waiter.onLease(c);
    }

    /**
     * A free backend on shard {@code s}. Waiters may release synchronously (a login that only needed to
     * learn the server's parameters, a client that left while waiting), which would re-enter here once per
     * waiter; a trampoline keeps the stack flat however many clients wait.
     */
    private void offer(Shard s, ServerConnection c) {
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
        if (paused) {
            discardCounted(c);
            return;
        }
        Shard.Waiting w;
        while ((w = s.waiters.pollFirst()) != null) {
            s.noteOldestWaiter();
            s.waitingCount.decrementAndGet();
            if (!w.done) {
                w.done = true;
                lease(s, c, w.waiter, System.nanoTime() - w.sinceNanos);
                return;
            }
        }
        if (shards.length > 1) {
            long now = System.nanoTime();
            for (Shard o : shards) {
                if (o != s && LoopBalance.needsBackend(o, now)) {
                    migrate(c, o);
                    return;
                }
            }
        }
        park(s, c);
        lendWhenDue(s);
    }

    /**
     * A backend was just parked on shard {@code s} while clients may wait on other loops that did not need it yet
     * (see {@link LoopBalance#needsBackend}): {@code s} offers its idle backends again once the first of those is due.
     * Nothing else would: a waiter's own acquire looks at other loops' idle backends only when it arrives, and a
     * backend freed elsewhere within {@link LoopBalance#REBALANCE_AFTER_NANOS} after that (a session-mode client
     * leaving, its backend reset, just as the next one logs in) would idle here while the waiter timed out.
     */
    private void lendWhenDue(Shard s) {
        if (shards.length == 1 || s.lendScheduled) {
            return;
        }
        long delay = LoopBalance.untilDue(s, shards, System.nanoTime());
        if (delay == LoopBalance.NONE) {
            return;
        }
        s.lendScheduled = true;
        s.loop.schedule(() -> {
            s.lendScheduled = false;
            ServerConnection c = takeIdle(s);
            if (c != null) {
                offer(s, c); // to a waiter here, to a loop now due, or parked again
            }
        }, Math.max(delay, LoopBalance.REBALANCE_AFTER_NANOS / 10), TimeUnit.NANOSECONDS);
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

    /** Moves an idle backend's channel to another event loop (Netty re-registration), then offers it there. */
    private void migrate(ServerConnection c, Shard to) {
        migrations.increment();
        c.poolSlot(null);
        c.channel().deregister().addListener(f -> {
            if (!f.isSuccess()) {
                dropUncounted(c);
                return;
            }
            to.loop.register(c.channel()).addListener(g -> {
                if (!g.isSuccess() || !c.channel().isActive()) {
                    dropUncounted(c);
                    return;
                }
                c.poolSlot(to);
                offer(to, c);
            });
        });
    }

    /**
     * Shard {@code s} has waiters and nothing idle: other loops hand over an idle backend if {@code s} needs
     * one now (see {@link LoopBalance#needsBackend}) or they have two or more; otherwise {@code s} checks again once
     * its oldest waiter is due for rebalancing, in case its own backends are held by long transactions.
     */
    private void askOthersForIdle(Shard s) {
        if (shards.length == 1) {
            return;
        }
        boolean needs = LoopBalance.needsBackend(s, System.nanoTime());
        boolean deferred = false;
        for (Shard o : shards) {
            if (o == s || o.idleCount == 0) {
                continue;
            }
            if (needs || o.idleCount > 1) {
                o.loop.execute(() -> {
                    if (s.waitingCount.get() > s.connecting) {
                        ServerConnection c = takeIdle(o);
                        if (c != null) {
                            migrate(c, s);
                        }
                    }
                });
            } else {
                deferred = true;
            }
        }
        if (deferred && !s.rebalanceScheduled) {
            s.rebalanceScheduled = true;
            s.loop.schedule(() -> {
                s.rebalanceScheduled = false;
                if (s.waiters.size() > s.connecting && !paused) {
                    askOthersForIdle(s);
                }
            }, LoopBalance.REBALANCE_AFTER_NANOS, TimeUnit.NANOSECONDS);
        }
    }

    private void grow(Shard s) {
        if (paused) {
            return; // a backend opened now would only be closed: waiters are served on RESUME
        }
        long wait = backoffUntilNanos - System.nanoTime();
        if (lastFailure != null && wait > 0 && s.waiters.size() > s.connecting) {
            // the server refused moments ago: retry once the backoff has passed rather than on every acquire;
            // the waiters then get a backend, or the error of that retry
            if (!s.retryScheduled) {
                s.retryScheduled = true;
                s.loop.schedule(() -> {
                    s.retryScheduled = false;
                    grow(s);
                }, wait, TimeUnit.NANOSECONDS);
            }
            return;
        }
        while (canOpen() && s.waiters.size() > s.connecting && claimSlot(settings.maxSize()) >= 0) {
            s.connecting++;
            open(s);
        }
    }

    /**
     * PgBouncer's reserve pool (launch_new_connection in its objects.c): once the oldest client of a pool at its size
     * has waited reserve-timeout, the pool may open up to reserve-size more backends, still within
     * max-db-connections. Here, one for each client of the shard that has waited that long and no connect covers.
     * Called by the shard's wait sweep, never on acquire or release; a client is served by the first backend to come,
     * reserve or not, and a reserve backend is an ordinary member afterwards, closed by idle-timeout like any other.
     */
    private void openReserve(Shard s, long now) {
        Shard.Waiting head = s.waiters.peekFirst();
        if (head == null || paused || !canOpen() || now - head.sinceNanos < settings.reserveTimeout().toNanos()
                || (lastFailure != null && backoffUntilNanos - now > 0)) {
            return; // after a failed connect grow's retry comes first, as PgBouncer's server_login_retry
        }
        int limit = settings.openLimit(now - head.sinceNanos);
        int overdue = 0;
        for (Shard.Waiting w : s.waiters) {
            if (now - w.sinceNanos < settings.reserveTimeout().toNanos() || overdue > s.connecting + settings.reserveSize()) {
                break;
            }
            overdue++;
        }
        while (overdue > s.connecting) {
            int before = claimSlot(limit);
            if (before < 0) {
                return;
            }
            if (before >= settings.maxSize()) {
                reserveOpened.increment();
                LOG.infof("pool %s: opening reserve backend %d of %d for a client waiting %d ms", key,
                        before - settings.maxSize() + 1, settings.reserveSize(), (now - head.sinceNanos) / 1_000_000);
            }
            s.connecting++;
            open(s);
        }
    }

    /**
     * Counts a backend about to be opened or adopted if the pool has fewer than {@code limit} and both its database and
     * its user have room: the number the pool had before, or -1 when there is no room. A pool kept from opening by its
     * database's or user's limit is looked at again by its maintenance, once a second: the backend that frees room
     * belongs to another pool, as in PgBouncer, where it must first be closed (idle-timeout).
     */
    private int claimSlot(int limit) {
        while (true) {
            int n = total.get();
            if (n >= limit) {
                return -1;
            }
            if (total.compareAndSet(n, n + 1)) {
                if (databaseLimit.tryAcquire()) {
                    if (userLimit.tryAcquire()) {
                        return n;
                    }
                    databaseLimit.release();
                }
                total.decrementAndGet();
                return -1;
            }
        }
    }

    private void open(Shard s) {
        connector.connect(s.loop, target, credentials, Map.of()).addListener(f -> {
            s.connecting--;
            if (f.isSuccess()) {
                ServerConnection c = (ServerConnection) f.getNow();
                c.poolSlot(s);
                lastConnectOkNanos = System.nanoTime();
                lastError = null;
                lastFailure = null;
                backoffNanos = 0;
                if (obsolete(c)) {
                    discardCounted(c); // begun before a RECONNECT; waiters here get a replacement
                    return;
                }
                learnServerParams(c);
                offer(s, c);
            } else {
                releaseSlot();
                connectErrors.increment();
                Throwable cause = f.cause();
                PoolException err = cause instanceof BackendException be
                        ? new PoolException(be.sqlState(), be.getMessage(), be.serverError())
                        : new PoolException(SqlState.CONNECTION_FAILURE, String.valueOf(cause), false);
                lastError = err.getMessage();
                lastFailure = err;
                // retried with backoff: 100 ms, doubling up to 1 s, reset by the next success
                long b = backoffNanos == 0 ? TimeUnit.MILLISECONDS.toNanos(100) : Math.min(backoffNanos * 2, TimeUnit.SECONDS.toNanos(1));
                backoffNanos = b;
                backoffUntilNanos = System.nanoTime() + b;
                LOG.debugf("pool %s: backend connect failed: %s", key, err.getMessage());
                failWaiters(s, err);
            }
        });
    }

    /** Waiters not covered by a connect still in flight get the error now rather than hang. */
    private void failWaiters(Shard s, PoolException err) {
        while (s.waiters.size() > s.connecting) {
            Shard.Waiting w = s.waiters.pollFirst();
            s.noteOldestWaiter();
            s.waitingCount.decrementAndGet();
            if (!w.done) {
                w.done = true;
                w.waiter.onLeaseFailed(err);
            }
        }
    }

    private void serveWaiters(Shard s) {
        ServerConnection c;
        while (!s.waiters.isEmpty() && (c = takeIdle(s)) != null) {
            offer(s, c);
        }
        grow(s);
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
            openReserve(s, now);
        }
    }

    private void timeout(Shard s, Shard.Waiting w) {
        if (w.done) {
            return;
        }
        w.done = true;
        s.waiters.remove(w);
        s.noteOldestWaiter();
        s.waitingCount.decrementAndGet();
        waitTimeouts.increment();
        w.waiter.onLeaseFailed(new PoolException(SqlState.TOO_MANY_CONNECTIONS,
                "pgferry: query_wait_timeout: no server connection for pool \"" + key + "\" within "
                        + settings.queryWaitTimeout().toSeconds() + " s",
                false));
    }

    private void discardCounted(ServerConnection c) {
        forget(c);
        c.close();
        // capacity freed: let loops with waiters open a replacement
        for (Shard o : shards) {
            if (o.waitingCount.get() > 0) {
                o.loop.execute(() -> grow(o));
            }
        }
    }

    private void dropUncounted(ServerConnection c) {
        releaseSlot();
        c.close();
    }

    private void releaseSlot() {
        databaseLimit.release();
        userLimit.release();
        if (total.decrementAndGet() == 0 && paused) {
            drained.complete(null);
        }
    }

    /** Closes the idle backends of shard {@code s}; PAUSE. */
    private void closeIdle(Shard s) {
        ServerConnection c;
        while (paused && (c = s.popIdle()) != null) {
            discardCounted(c);
        }
    }

    private void forget(ServerConnection c) {
        if (c.poolSlot() != null) {
            c.poolSlot(null);
            releaseSlot();
        }
    }

    private void maintain(Shard s) {
        long now = System.nanoTime();
        long idleLimit = settings.idleTimeout().toNanos();
        for (ServerConnection c : s.idle.toArray(new ServerConnection[0])) {
            boolean idleTooLong = now - c.lastUsedNanos() > idleLimit && total.get() > settings.minIdle();
            if (idleTooLong || expired(c) || c.isBroken()) {
                s.removeIdle(c);
                discardCounted(c);
            }
        }
        if (s == shards[0] && !paused && canOpen()) {
            while (total.get() < settings.minIdle() && claimSlot(settings.maxSize()) >= 0) {
                s.connecting++;
                open(s);
            }
        }
        if (!s.waiters.isEmpty() && !paused) {
            serveWaiters(s);
        }
    }
}
