package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What SHOW POOLS, SHOW STATS and the metrics read from a pool's counters. */
class PoolStatsTest {
    private static final long NOW = 3_000_000_000L;
    private final PoolStats stats = new PoolStats(new Shard[0]);

    private static Shard shard(int idle, int leased, int connecting, int waiting, long oldestSince) {
        Shard s = new Shard(null, null);
        s.idleCount = idle;
        s.leased = leased;
        s.connecting = connecting;
        s.waitingCount.set(waiting);
        s.oldestWaitSince = oldestSince;
        return s;
    }

    @Test
    void countsAddUpEveryShardAndReportTheLongestWait() {
        Shard a = shard(2, 1, 0, 0, 0);
        Shard b = shard(0, 3, 1, 2, NOW - 700);
        Shard c = shard(1, 0, 0, 1, NOW - 200);
        stats.cancelForwarded();
        stats.cancelForwarded();
        stats.cancelOver();
        assertThat(stats.counts(new Shard[] {a, b, c}, NOW))
                .isEqualTo(new Pool.PoolCounts(3, 4, 1, 3, 700, 0, 1));
    }

    @Test
    void aWaitStampWithoutWaitersIsNotAWait() {
        Shard leaving = shard(0, 1, 0, 0, NOW - 5_000); // its last waiter just left: the count is written first
        assertThat(stats.counts(new Shard[] {leaving}, NOW).maxWaitNanos()).isZero();
    }

    @Test
    void eachLeaseCountsItsWaitAndReachesTheRecorder() {
        List<Long> recorded = new ArrayList<>();
        stats.leaseWaitRecorder(recorded::add);
        stats.leased(0);
        stats.leased(1_500);
        assertThat(stats.leases.sum()).isEqualTo(2);
        assertThat(stats.totalWaitNanos.sum()).isEqualTo(1_500);
        assertThat(recorded).containsExactly(0L, 1_500L);
    }

    @Test
    void connectionsAreCopiedOnEachShardsOwnLoop() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            Shard s = new Shard(null, loop);
            List<Thread> seen = new ArrayList<>();
            var copy = PoolStats.copied(new Shard[] {s, s}, x -> {
                seen.add(Thread.currentThread());
                return List.of();
            });
            assertThat(copy.get(5, TimeUnit.SECONDS)).isEmpty();
            assertThat(seen).hasSize(2).allMatch(t -> loop.inEventLoop(t));
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
