package dev.pgferry.pool;

import java.util.concurrent.TimeUnit;

/**
 * When a free backend moves from its event loop to another where clients wait. A loop whose own backends are all
 * out waits for one of them to come back, usually within microseconds, rather than pay for a move; but not longer
 * than {@link #REBALANCE_AFTER_NANOS}, and not at all when it has none out (starved). Pure functions of the shards'
 * counters, which other loops read without a lock: decisions may be stale by a moment, never wrong for long.
 */
final class LoopBalance {
    /** A waiter older than this takes an idle backend from another loop even if its own will come back. */
    static final long REBALANCE_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** {@link #untilDue}: no other loop has a waiter that no connect covers. */
    static final long NONE = -1;

    private LoopBalance() {}

    /** Whether shard {@code o}, where clients wait, should get an idle backend from another loop now. */
    static boolean needsBackend(Shard o, long now) {
        if (!uncovered(o)) {
            return false;
        }
        long since = o.oldestWaitSince;
        return o.leased == 0 || (since != 0 && now - since >= REBALANCE_AFTER_NANOS);
    }

    /**
     * Nanoseconds from {@code now} until the first loop other than {@code s} with waiters no connect covers is due to
     * take a backend from {@code s} ({@link #needsBackend}), 0 if one is due already; {@link #NONE} if there is none.
     */
    static long untilDue(Shard s, Shard[] shards, long now) {
        long first = NONE;
        for (Shard o : shards) {
            if (o == s || !uncovered(o)) {
                continue;
            }
            long since = o.oldestWaitSince;
            // since 0 with a waiter counted: its last waiter is leaving right now (the count is written last)
            long due = o.leased == 0 ? 0 : since == 0 ? REBALANCE_AFTER_NANOS
                    : Math.max(0, since + REBALANCE_AFTER_NANOS - now);
            first = first == NONE ? due : Math.min(first, due);
        }
        return first;
    }

    private static boolean uncovered(Shard o) {
        return o.waitingCount.get() > o.connecting;
    }
}
