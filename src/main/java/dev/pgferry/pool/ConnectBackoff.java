package dev.pgferry.pool;

import java.util.concurrent.TimeUnit;

/**
 * When a pool may try the server again after a connect failed: 100 ms after the first failure, doubling up to 1 s,
 * reset by the next success. Written on the loops that open backends, read by all; a loop may act on a value a
 * moment old, which only moves one retry by as much.
 */
final class ConnectBackoff {
    static final long FIRST_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(1);

    private volatile PoolException lastFailure;
    private volatile long backoffNanos;
    private volatile long untilNanos;

    /** A connect failed at {@code now} with {@code err}: the next waits the backoff, twice the last one. */
    void failed(PoolException err, long now) {
        long b = backoffNanos == 0 ? FIRST_NANOS : Math.min(backoffNanos * 2, MAX_NANOS);
        backoffNanos = b;
        untilNanos = now + b;
        lastFailure = err;
    }

    void succeeded() {
        lastFailure = null;
        backoffNanos = 0;
    }

    /** Nanoseconds from {@code now} until a retry may start after a failure; 0 or less when it may start now. */
    long waitNanos(long now) {
        return lastFailure == null ? 0 : untilNanos - now;
    }

    /** The error of the last connect, or null when it succeeded. */
    PoolException lastFailure() {
        return lastFailure;
    }
}
