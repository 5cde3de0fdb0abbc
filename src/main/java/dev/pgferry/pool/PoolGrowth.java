package dev.pgferry.pool;

import dev.pgferry.backend.BackendConnector;
import dev.pgferry.backend.BackendException;
import dev.pgferry.backend.BackendTarget;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.SqlState;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * How one pool gets backends: it counts every backend open or being opened against its size and its database's
 * and user's limits, opens new ones for waiting clients, retries with {@link ConnectBackoff} after a failed connect,
 * opens the reserve for clients that waited long, and keeps {@code minIdle} open. Each shard's part runs on its loop.
 */
public final class PoolGrowth {
    private static final Logger LOG = Logger.getLogger(PoolGrowth.class);

    private final Pool pool;
    private final BackendConnector connector;
    private final AtomicInteger total = new AtomicInteger();
    /** Backends of every pool of this database, bounded by pgferry.pool.max-db-connections. */
    final BackendLimit databaseLimit;
    /** Backends of every pool of this user, bounded by pgferry.pool.max-user-connections (PgBouncer's max_user_connections). */
    final BackendLimit userLimit;
    final ConnectBackoff backoff = new ConnectBackoff();
    private volatile long lastConnectOkNanos;

    PoolGrowth(Pool pool, BackendConnector connector, BackendLimit databaseLimit, BackendLimit userLimit) {
        this.pool = pool;
        this.connector = connector;
        this.databaseLimit = databaseLimit;
        this.userLimit = userLimit;
    }

    /** The database's and the user's backend limits this pool counts against (RELOAD sets new maxima on them). */
    public BackendLimit databaseLimit() {
        return databaseLimit;
    }

    public BackendLimit userLimit() {
        return userLimit;
    }

    BackendConnector connector() {
        return connector;
    }

    /** Backends open or being opened. */
    public int total() {
        return total.get();
    }

    public long lastConnectOkNanos() {
        return lastConnectOkNanos;
    }

    public String lastError() {
        PoolException f = backoff.lastFailure();
        return f == null ? null : f.getMessage();
    }

    /** A backend opened outside the pool (a passthrough login) logged in. */
    void connectedOutside() {
        lastConnectOkNanos = System.nanoTime();
    }

    /** Opens backends for the waiters of {@code s} that no connect covers yet, unless a failed connect is too recent. */
    void grow(Shard s) {
        if (pool.control.paused()) {
            return; // a backend opened now would only be closed: waiters are served on RESUME
        }
        long wait = backoff.waitNanos(System.nanoTime());
        if (wait > 0 && s.waiters.size() > s.connecting) {
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
        PoolSettings settings = pool.settings();
        while (pool.canOpen() && s.waiters.size() > s.connecting && claimSlot(settings.maxSize()) >= 0) {
            if (!open(s)) {
                return; // no host of the wanted role now: the waiters wait for one, up to query-wait-timeout
            }
        }
    }

    /** The maintenance of the first shard: opens backends until the pool has {@code minIdle}. */
    void keepMinIdle(Shard s) {
        if (pool.control.paused() || !pool.canOpen()) {
            return;
        }
        while (total.get() < pool.settings().minIdle() && claimSlot(pool.settings().maxSize()) >= 0) {
            if (!open(s)) {
                return;
            }
        }
    }

    /**
     * PgBouncer's reserve pool (launch_new_connection in its objects.c): once the oldest client of a pool at its size
     * has waited reserve-timeout, the pool may open up to reserve-size more backends, still within
     * max-db-connections. Here, one for each client of the shard that has waited that long and no connect covers.
     * Called by the shard's wait sweep, never on acquire or release; a client is served by the first backend to come,
     * reserve or not, and a reserve backend is an ordinary member afterwards, closed by idle-timeout like any other.
     */
    void openReserve(Shard s, long now) {
        Shard.Waiting head = s.waiters.peekFirst();
        PoolSettings settings = pool.settings();
        if (head == null || pool.control.paused() || !pool.canOpen() || !reserveDue(head.sinceNanos, now, settings)
                || backoff.waitNanos(now) > 0) {
            return; // after a failed connect grow's retry comes first, as PgBouncer's server_login_retry
        }
        int limit = settings.openLimit(now - head.sinceNanos);
        int overdue = overdue(s.waiters, now, settings, s.connecting);
        while (overdue > s.connecting) {
            int before = claimSlot(limit);
            if (before < 0) {
                return;
            }
            if (before >= settings.maxSize()) {
                pool.stats().reserveOpened.increment();
                LOG.infof("pool %s: opening reserve backend %d of %d for a client waiting %d ms", pool.key(),
                        before - settings.maxSize() + 1, settings.reserveSize(), (now - head.sinceNanos) / 1_000_000);
            }
            if (!open(s)) {
                return;
            }
        }
    }

    /** Whether a client waiting since {@code sinceNanos} has waited the reserve timeout at {@code now}. */
    static boolean reserveDue(long sinceNanos, long now, PoolSettings settings) {
        return now - sinceNanos >= settings.reserveTimeout().toNanos();
    }

    /**
     * How many of {@code waiters} (oldest first) have waited the reserve timeout at {@code now}, counted up to one more
     * than {@code connecting} plus the reserve size: enough to tell how many backends to open for them.
     */
    static int overdue(Iterable<Shard.Waiting> waiters, long now, PoolSettings settings, int connecting) {
        int overdue = 0;
        for (Shard.Waiting w : waiters) {
            if (!reserveDue(w.sinceNanos, now, settings) || overdue > connecting + settings.reserveSize()) {
                break;
            }
            overdue++;
        }
        return overdue;
    }

    /**
     * Counts a backend about to be opened or adopted if the pool has fewer than {@code limit} and both its database and
     * its user have room: the number the pool had before, or -1 when there is no room. A pool kept from opening by its
     * database's or user's limit is looked at again by its maintenance, once a second: the backend that frees room
     * belongs to another pool, as in PgBouncer, where it must first be closed (idle-timeout).
     */
    int claimSlot(int limit) {
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

    /** A counted backend closed or was never opened: its room goes back to the pool, database and user. */
    void releaseSlot() {
        databaseLimit.release();
        userLimit.release();
        if (total.decrementAndGet() == 0) {
            pool.control.lastClosed();
        }
    }

    /**
     * Opens a backend for the slot just claimed, to the pool's server or, over a host list, to the host
     * {@link HostRoster#next} chooses; false (the slot given back) when no host of the wanted role answers now.
     */
    private boolean open(Shard s) {
        HostRoster roster = pool.hosts.roster;
        int host = -1;
        BackendTarget target = pool.target();
        if (roster != null) {
            host = roster.next();
            if (host < 0) {
                releaseSlot();
                return false;
            }
            roster.opened(host); // counted while connecting, so that opens at once spread too
            target = roster.backendTarget(host, target.database());
        }
        s.connecting++;
        int chosen = host;
        BackendTarget to = target;
        connector.connect(s.loop, to, pool.credentials(), Map.of()).addListener(f -> {
            s.connecting--;
            if (f.isSuccess()) {
                ServerConnection c = (ServerConnection) f.getNow();
                c.host(chosen, roster);
                c.poolSlot(s);
                lastConnectOkNanos = System.nanoTime();
                backoff.succeeded();
                pool.opened(s, c);
            } else {
                releaseSlot();
                pool.stats().connectErrors.increment();
                Throwable cause = f.cause();
                PoolException err = cause instanceof BackendException be
                        ? new PoolException(be.sqlState(), be.getMessage(), be.serverError())
                        : new PoolException(SqlState.CONNECTION_FAILURE, String.valueOf(cause), false);
                if (roster != null) {
                    roster.closed(chosen);
                    roster.suspect(chosen);
                    if (hostDown(err)) {
                        // a failover under way: the waiters stay queued until a host of the role answers (the
                        // check just asked makes it known) or query-wait-timeout, as PgBouncer's clients wait
                        LOG.debugf("pool %s: host %s refused a backend: %s", pool.key(), to.address(),
                                err.getMessage());
                        return;
                    }
                }
                backoff.failed(err, System.nanoTime());
                LOG.debugf("pool %s: backend connect failed: %s", pool.key(), err.getMessage());
                failWaiters(s, err);
            }
        });
        return true;
    }

    /**
     * A connect failure that says the host is gone or going (refused, timed out, shutting down, starting up,
     * recovering) rather than that this login is wrong: over a host list the role check decides what comes next.
     */
    static boolean hostDown(PoolException err) {
        String state = err.sqlState();
        return !err.serverError() || state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                || state.equals("57P03");
    }

    /** Waiters not covered by a connect still in flight get the error now rather than hang. */
    private void failWaiters(Shard s, PoolException err) {
        while (s.waiters.size() > s.connecting) {
            Shard.Waiting w = s.pollWaiter();
            if (!w.done) {
                w.done = true;
                w.waiter.onLeaseFailed(err);
            }
        }
    }
}
