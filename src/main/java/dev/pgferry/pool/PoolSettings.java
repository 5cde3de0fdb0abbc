package dev.pgferry.pool;

import dev.pgferry.config.PgferryConfig.PoolMode;
import java.time.Duration;

/** The mode, limits and timeouts of one pool. */
public record PoolSettings(PoolMode mode, int maxSize, int minIdle, Duration idleTimeout, Duration maxLifetime,
        Duration queryWaitTimeout) {}
