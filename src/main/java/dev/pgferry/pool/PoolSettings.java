package dev.pgferry.pool;

import dev.pgferry.config.PgferryConfig.PoolMode;
import java.time.Duration;

/**
 * The mode, limits and timeouts of one pool. {@code reserveSize} backends may be opened beyond {@code maxSize} for a
 * client that waited {@code reserveTimeout} (PgBouncer's reserve_pool_size and reserve_pool_timeout).
 */
public record PoolSettings(PoolMode mode, int maxSize, int minIdle, Duration idleTimeout, Duration maxLifetime,
        Duration queryWaitTimeout, int reserveSize, Duration reserveTimeout) {

    /** Settings without a reserve. */
    public PoolSettings(PoolMode mode, int maxSize, int minIdle, Duration idleTimeout, Duration maxLifetime,
            Duration queryWaitTimeout) {
        this(mode, maxSize, minIdle, idleTimeout, maxLifetime, queryWaitTimeout, 0, Duration.ZERO);
    }

    /** Whether a reserve can be opened: PgBouncer disables it when either the size or the timeout is 0. */
    public boolean reserveEnabled() {
        return reserveSize > 0 && reserveTimeout.toNanos() > 0;
    }

    /**
     * Backends the pool may have open while its oldest waiter has waited {@code waitedNanos}: the size, and the reserve
     * besides once that wait reached the reserve timeout.
     */
    int openLimit(long waitedNanos) {
        return reserveEnabled() && waitedNanos >= reserveTimeout.toNanos() ? maxSize + reserveSize : maxSize;
    }

    /**
     * Period of a shard's wait sweep, in milliseconds: a twentieth of the query wait timeout, and a tenth of the reserve
     * timeout when a reserve is enabled, so that a reserve backend is opened at most that late; 10 ms to 1 s.
     */
    long waitSweepMillis() {
        long period = queryWaitTimeout.toMillis() / 20;
        if (reserveEnabled()) {
            period = Math.min(period, reserveTimeout.toMillis() / 10);
        }
        return Math.max(10, Math.min(1000, period));
    }
}
