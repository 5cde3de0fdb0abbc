package dev.pgferry.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The share arithmetic of pgferry.pool.cluster-max-db-connections and the count it is computed from. */
class BackendShareTest {

    @Test
    void theTotalIsDividedRoundingDownAtLeastOne() {
        assertThat(BackendShare.of(12, 3)).isEqualTo(4);
        assertThat(BackendShare.of(12, 2)).isEqualTo(6);
        assertThat(BackendShare.of(12, 1)).isEqualTo(12);
        assertThat(BackendShare.of(10, 3)).isEqualTo(3);
        assertThat(BackendShare.of(12, 5)).isEqualTo(2);
        assertThat(BackendShare.of(2, 5)).isEqualTo(1);
        assertThat(BackendShare.of(12, 0)).isEqualTo(12);
        assertThat(BackendShare.of(12, Integer.MAX_VALUE)).isEqualTo(1);
        assertThat(BackendShare.of(0, 3)).as("no budget").isZero();
    }

    @Test
    void sharesNeverAddUpToMoreThanTheTotalWhileThereAreFewerReplicasThanBackends() {
        for (int total = 1; total <= 200; total++) {
            for (int alive = 1; alive <= total; alive++) {
                assertThat((long) BackendShare.of(total, alive) * alive).isLessThanOrEqualTo(total);
                assertThat(BackendShare.of(total, alive)).isGreaterThanOrEqualTo(1);
            }
        }
    }

    @Test
    void aNewcomerShrinksAtOnceAndALeaverGrowsOnlyAfterTheGrace() {
        long grace = TimeUnit.SECONDS.toNanos(5);
        AliveCount count = new AliveCount(grace);
        long t = 0;
        assertThat(count.next(3, t)).as("a replica starts small").isEqualTo(Integer.MAX_VALUE);
        assertThat(count.next(3, t += grace - 1)).isEqualTo(Integer.MAX_VALUE);
        assertThat(count.next(3, t += 1)).isEqualTo(3);
        assertThat(count.next(2, t += 1)).as("a leaver: wait").isEqualTo(3);
        assertThat(count.next(2, t += grace / 2)).isEqualTo(3);
        assertThat(count.next(3, t += 1)).as("it came back: the wait is off").isEqualTo(3);
        assertThat(count.next(2, t += 1)).isEqualTo(3);
        assertThat(count.next(2, t += grace - 1)).isEqualTo(3);
        assertThat(count.next(2, t += 1)).isEqualTo(2);
        assertThat(count.next(4, t += 1)).as("newcomers: at once").isEqualTo(4);
    }
}
