package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.LeaseWaiter;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolException;
import io.netty.channel.EventLoop;

/**
 * A lease for the login of a session-mode client: a backend idle longer than {@code pgferry.pool.check-delay} is proven
 * alive with an empty query before the login gets it, and a dead one is discarded and another waited for. The session
 * checks its backend so at each lease ({@link ClientSession#onLease}); a session-mode client keeps the backend of its
 * login and is told its process id in BackendKeyData, so it must not find it dead at its first query.
 */
final class CheckedLease implements LeaseWaiter {
    private final Pool pool;
    private final EventLoop loop;
    private final long checkDelayNanos;
    private final LeaseWaiter login;

    private CheckedLease(Pool pool, EventLoop loop, long checkDelayNanos, LeaseWaiter login) {
        this.pool = pool;
        this.loop = loop;
        this.checkDelayNanos = checkDelayNanos;
        this.login = login;
    }

    /** Asks {@code pool} for a backend for {@code login}; on {@code loop}, where the callbacks run too. */
    static void acquire(Pool pool, EventLoop loop, long checkDelayNanos, LeaseWaiter login) {
        pool.acquire(loop, new CheckedLease(pool, loop, checkDelayNanos, login));
    }

    @Override
    public void onLease(ServerConnection c) {
        if (System.nanoTime() - c.lastUsedNanos() <= checkDelayNanos) {
            login.onLease(c);
            return;
        }
        InternalQuery.run(c, "", (conn, r) -> {
            if (r.ok() && r.status == 'I') {
                conn.touch();
                login.onLease(conn);
            } else {
                pool.discard(conn);
                pool.acquire(loop, this);
            }
        });
    }

    @Override
    public void onLeaseFailed(PoolException error) {
        login.onLeaseFailed(error);
    }
}
