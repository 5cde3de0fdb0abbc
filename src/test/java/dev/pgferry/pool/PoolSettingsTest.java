package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.PgferryConfig.PoolMode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When a pool may open its reserve (PgBouncer's reserve_pool_size, reserve_pool_timeout), and how often it looks. */
class PoolSettingsTest {
    private static PoolSettings settings(int reserveSize, Duration reserveTimeout, Duration queryWaitTimeout) {
        return new PoolSettings(PoolMode.TRANSACTION, 4, 0, Duration.ofMinutes(10), Duration.ofHours(1),
                queryWaitTimeout, reserveSize, reserveTimeout);
    }

    @Test
    void theReserveIsAddedOnceTheOldestWaiterHasWaitedTheReserveTimeout() {
        PoolSettings s = settings(2, Duration.ofSeconds(5), Duration.ofSeconds(120));
        assertThat(s.reserveEnabled()).isTrue();
        assertThat(s.openLimit(0)).isEqualTo(4);
        assertThat(s.openLimit(Duration.ofMillis(4999).toNanos())).isEqualTo(4);
        assertThat(s.openLimit(Duration.ofSeconds(5).toNanos())).as("PgBouncer: waited >= reserve_pool_timeout")
                .isEqualTo(6);
        assertThat(s.openLimit(Duration.ofMinutes(1).toNanos())).isEqualTo(6);
    }

    @Test
    void aReserveSizeOrAReserveTimeoutOfZeroDisablesTheReserve() {
        for (PoolSettings s : new PoolSettings[] {settings(0, Duration.ofSeconds(5), Duration.ofSeconds(120)),
                settings(3, Duration.ZERO, Duration.ofSeconds(120)),
                new PoolSettings(PoolMode.TRANSACTION, 4, 0, Duration.ofMinutes(10), Duration.ofHours(1),
                        Duration.ofSeconds(120))}) {
            assertThat(s.reserveEnabled()).as("%s", s).isFalse();
            assertThat(s.openLimit(Duration.ofHours(1).toNanos())).as("%s", s).isEqualTo(4);
        }
    }

    @Test
    void theWaitSweepRunsAtATenthOfTheReserveTimeoutWhenThatIsSooner() {
        assertThat(settings(0, Duration.ofSeconds(5), Duration.ofSeconds(120)).waitSweepMillis())
                .as("no reserve: a twentieth of the wait timeout, at most 1 s").isEqualTo(1000);
        assertThat(settings(1, Duration.ofSeconds(5), Duration.ofSeconds(120)).waitSweepMillis()).isEqualTo(500);
        assertThat(settings(1, Duration.ofSeconds(5), Duration.ofSeconds(2)).waitSweepMillis())
                .as("the wait timeout's sweep is sooner").isEqualTo(100);
        assertThat(settings(1, Duration.ofMillis(50), Duration.ofSeconds(120)).waitSweepMillis())
                .as("at least 10 ms").isEqualTo(10);
    }
}
