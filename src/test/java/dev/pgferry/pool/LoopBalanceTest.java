package dev.pgferry.pool;

import static dev.pgferry.pool.LoopBalance.NONE;
import static dev.pgferry.pool.LoopBalance.REBALANCE_AFTER_NANOS;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a free backend moves to another loop: the counters other loops read, set by hand. */
class LoopBalanceTest {
    private static final long NOW = 1_000_000_000L;

    /** A shard with {@code waiting} clients, the oldest since {@code since}, and {@code leased} backends out. */
    private static Shard shard(int waiting, long since, int leased) {
        Shard s = new Shard(null, null);
        s.waitingCount.set(waiting);
        s.oldestWaitSince = waiting == 0 ? 0 : since;
        s.leased = leased;
        return s;
    }

    @Test
    void aStarvedLoopNeedsABackendAtOnce() {
        assertThat(LoopBalance.needsBackend(shard(1, NOW, 0), NOW)).isTrue();
    }

    @Test
    void aLoopWithBackendsOutWaitsForThemUntilItsOldestWaiterIsDue() {
        Shard o = shard(1, NOW, 2);
        assertThat(LoopBalance.needsBackend(o, NOW)).isFalse();
        assertThat(LoopBalance.needsBackend(o, NOW + REBALANCE_AFTER_NANOS - 1)).isFalse();
        assertThat(LoopBalance.needsBackend(o, NOW + REBALANCE_AFTER_NANOS)).isTrue();
    }

    @Test
    void waitersAConnectCoversNeedNothing() {
        Shard o = shard(1, NOW - 10 * REBALANCE_AFTER_NANOS, 0);
        o.connecting = 1;
        assertThat(LoopBalance.needsBackend(o, NOW)).isFalse();
        assertThat(LoopBalance.untilDue(shard(0, 0, 0), new Shard[] {o}, NOW)).isEqualTo(NONE);
    }

    @Test
    void nothingIsDueWhereNobodyWaits() {
        Shard here = shard(0, 0, 1);
        assertThat(LoopBalance.untilDue(here, new Shard[] {here, shard(0, 0, 0), shard(0, 0, 3)}, NOW)).isEqualTo(NONE);
    }

    @Test
    void ownWaitersDoNotCount() {
        Shard here = shard(2, NOW, 1);
        assertThat(LoopBalance.untilDue(here, new Shard[] {here}, NOW)).isEqualTo(NONE);
    }

    /**
     * The reconnect that timed out: a backend is freed on one loop a moment after a client began waiting on the other,
     * whose own backends are all out; it is not needed there yet, so it parks, and must be offered again when due.
     */
    @Test
    void aYoungWaiterOnALoopWithBackendsOutIsDueWhenItHasWaitedTheRebalanceDelay() {
        Shard here = shard(0, 0, 1);
        Shard there = shard(1, NOW - 300_000, 2);
        assertThat(LoopBalance.needsBackend(there, NOW)).isFalse();
        assertThat(LoopBalance.untilDue(here, new Shard[] {here, there}, NOW)).isEqualTo(REBALANCE_AFTER_NANOS - 300_000);
    }

    @Test
    void theFirstLoopDueCounts() {
        Shard here = shard(0, 0, 1);
        Shard young = shard(1, NOW - 100_000, 1);
        Shard older = shard(3, NOW - 700_000, 1);
        assertThat(LoopBalance.untilDue(here, new Shard[] {young, here, older}, NOW))
                .isEqualTo(REBALANCE_AFTER_NANOS - 700_000);
    }

    @Test
    void aLoopDueAlreadyOrStarvedIsDueNow() {
        Shard here = shard(0, 0, 1);
        assertThat(LoopBalance.untilDue(here, new Shard[] {here, shard(1, NOW - 5 * REBALANCE_AFTER_NANOS, 1)}, NOW))
                .isZero();
        assertThat(LoopBalance.untilDue(here, new Shard[] {here, shard(1, NOW, 0)}, NOW)).isZero();
    }

    @Test
    void aWaiterCountedWhileItsLoopForgetsItsAgeIsDueAfterTheDelay() {
        Shard here = shard(0, 0, 1);
        Shard leaving = shard(1, 0, 1);
        leaving.oldestWaitSince = 0;
        assertThat(LoopBalance.untilDue(here, new Shard[] {here, leaving}, NOW)).isEqualTo(REBALANCE_AFTER_NANOS);
    }
}
