package dev.pgferry.pool;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Backends open across several pools: one database's, for all its users (pgferry.pool.max-db-connections), or one
 * user's, on all databases (pgferry.pool.max-user-connections); a limit of 0 means none.
 */
public final class BackendLimit {
    /** Replaced by RELOAD; backends already open above a lower maximum are not closed for it. */
    private volatile int max;
    private final AtomicInteger open = new AtomicInteger();

    public BackendLimit(int max) {
        this.max = max;
    }

    public void max(int max) {
        this.max = max;
    }

    public int max() {
        return max;
    }

    boolean tryAcquire() {
        int limit = max;
        if (limit <= 0) {
            open.incrementAndGet();
            return true;
        }
        while (true) {
            int n = open.get();
            if (n >= limit) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        open.decrementAndGet();
    }

    public int open() {
        return open.get();
    }
}
