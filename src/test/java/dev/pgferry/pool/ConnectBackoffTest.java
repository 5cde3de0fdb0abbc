package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.SqlState;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When a pool tries the server again after a failed connect. */
class ConnectBackoffTest {
    private static final long NOW = 5_000_000_000L;
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final ConnectBackoff backoff = new ConnectBackoff();
    private final PoolException refused = new PoolException(SqlState.CONNECTION_FAILURE, "refused", false);

    @Test
    void withoutAFailureARetryMayStartAtOnce() {
        assertThat(backoff.waitNanos(NOW)).isZero();
        assertThat(backoff.lastFailure()).isNull();
    }

    @Test
    void theFirstFailureWaits100MsThenEachDoublesUpToOneSecond() {
        long[] expected = {100, 200, 400, 800, 1000, 1000};
        long t = NOW;
        for (long ms : expected) {
            backoff.failed(refused, t);
            assertThat(backoff.waitNanos(t)).as("after a failure at %d", t).isEqualTo(ms * MS);
            t += ms * MS;
        }
        assertThat(backoff.lastFailure()).isSameAs(refused);
    }

    @Test
    void theWaitShrinksWithTimeAndEndsWhenItHasPassed() {
        backoff.failed(refused, NOW);
        assertThat(backoff.waitNanos(NOW + 40 * MS)).isEqualTo(60 * MS);
        assertThat(backoff.waitNanos(NOW + 100 * MS)).isZero();
        assertThat(backoff.waitNanos(NOW + 150 * MS)).isNegative();
    }

    @Test
    void aSuccessForgetsTheFailureAndStartsTheNextBackoffAt100Ms() {
        backoff.failed(refused, NOW);
        backoff.failed(refused, NOW);
        backoff.succeeded();
        assertThat(backoff.waitNanos(NOW)).isZero();
        assertThat(backoff.lastFailure()).isNull();
        backoff.failed(refused, NOW);
        assertThat(backoff.waitNanos(NOW)).isEqualTo(100 * MS);
    }
}
