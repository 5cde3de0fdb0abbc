package dev.pgferry.pool;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Backends open across several pools: one database's, for all its users (pgferry.pool.max-db-connections), or one
 * user's, on all databases (pgferry.pool.max-user-connections); a limit of 0 means none.
 */
public final class BackendLimit {
    /** Replaced by RELOAD; backends already open above a lower maximum are not closed for it. */
    private volatile int max;
    /**
     * This replica's share of a cluster budget (pgferry.pool.cluster-max-db-connections), set by the peer package as
     * peers come and go; 0 means none. Unlike a lower max, a lower share closes backends: idle ones by the pools'
     * maintenance, busy ones when released ({@link #overShare()}), never one in use.
     */
    private volatile int share;
    /** A share that allows no backend yet: a replica that has just joined waits for the others to shrink first. */
    public static final int SHARE_NOT_YET = -1;
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

    public void share(int share) {
        this.share = share;
    }

    public int share() {
        return share;
    }

    /** The limit in force: the smaller of max and share, where set; 0 means none, {@link #SHARE_NOT_YET} nothing. */
    public int effectiveMax() {
        int m = max;
        int s = share;
        if (s == SHARE_NOT_YET) {
            return s;
        }
        return m <= 0 ? s : s <= 0 ? m : Math.min(m, s);
    }

    /** More backends open than this replica's cluster share: one that comes free is closed. */
    public boolean overShare() {
        int s = share;
        return s != 0 && open.get() > Math.max(0, s);
    }

    boolean tryAcquire() {
        int limit = effectiveMax();
        if (limit == SHARE_NOT_YET) {
            return false;
        }
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
