package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.PgferryConfig.PoolMode;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which waiting clients the reserve opens backends for (PgBouncer's reserve_pool_timeout and reserve_pool_size). */
class ReserveTest {
    private static final long NOW = 10_000_000_000L;
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final PoolSettings SETTINGS = new PoolSettings(PoolMode.TRANSACTION, 2, 0, Duration.ofMinutes(10),
            Duration.ofHours(1), Duration.ofSeconds(30), 3, Duration.ofMillis(500));

    /** Waiters that started waiting {@code agesMs} ago, oldest first. */
    private static ArrayDeque<Shard.Waiting> waiting(long... agesMs) {
        ArrayDeque<Shard.Waiting> q = new ArrayDeque<>();
        for (long age : agesMs) {
            q.addLast(new Shard.Waiting(null, NOW - age * MS));
        }
        return q;
    }

    @Test
    void aClientIsDueForTheReserveOnceItHasWaitedTheReserveTimeout() {
        assertThat(PoolGrowth.reserveDue(NOW - 499 * MS, NOW, SETTINGS)).isFalse();
        assertThat(PoolGrowth.reserveDue(NOW - 500 * MS, NOW, SETTINGS)).isTrue();
    }

    @Test
    void onlyClientsThatWaitedTheTimeoutCount() {
        assertThat(PoolGrowth.overdue(waiting(900, 600, 300, 10), NOW, SETTINGS, 0)).isEqualTo(2);
        assertThat(PoolGrowth.overdue(waiting(300, 10), NOW, SETTINGS, 0)).isZero();
        assertThat(PoolGrowth.overdue(waiting(), NOW, SETTINGS, 0)).isZero();
    }

    @Test
    void theCountStopsOneBeyondWhatTheReserveAndTheConnectsInFlightCouldServe() {
        long[] ages = new long[20];
        java.util.Arrays.fill(ages, 1000);
        assertThat(PoolGrowth.overdue(waiting(ages), NOW, SETTINGS, 0)).isEqualTo(4);
        assertThat(PoolGrowth.overdue(waiting(ages), NOW, SETTINGS, 2)).isEqualTo(6);
    }

    @Test
    void theOpenLimitGrowsByTheReserveOnlyOnceTheOldestWaiterIsDue() {
        assertThat(SETTINGS.openLimit(499 * MS)).isEqualTo(2);
        assertThat(SETTINGS.openLimit(500 * MS)).isEqualTo(5);
        PoolSettings off = new PoolSettings(PoolMode.TRANSACTION, 2, 0, Duration.ofMinutes(10), Duration.ofHours(1),
                Duration.ofSeconds(30), 3, Duration.ZERO);
        assertThat(off.openLimit(TimeUnit.HOURS.toNanos(1))).as("a reserve timeout of 0 disables the reserve").isEqualTo(2);
    }
}
