package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.session.ClientSession.State;
import dev.pgferry.session.IdleLimits.Verdict;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Which idle limit a client has outlived, as PgBouncer's janitor decides it; and how often the sweep looks. */
class IdleLimitsTest {
    static final long SECOND = Duration.ofSeconds(1).toNanos();
    final IdleLimits both = IdleLimits.of(Duration.ofSeconds(2), Duration.ofSeconds(1));

    @Test
    void bothZeroIsNoLimitsAtAll() {
        assertThat(IdleLimits.of(Duration.ZERO, Duration.ZERO)).isNull();
        assertThat(IdleLimits.of(Duration.ZERO, Duration.ofSeconds(1))).isNotNull();
        assertThat(IdleLimits.of(Duration.ofSeconds(1), Duration.ZERO)).isNotNull();
    }

    @Test
    void aClientHoldingNoBackendOutlivesClientIdleTimeoutOnlyPastIt() {
        assertThat(both.verdict(State.IDLE, 0, false, false, (byte) 'I', 2 * SECOND)).isEqualTo(Verdict.NONE);
        assertThat(both.verdict(State.IDLE, 0, false, false, (byte) 'I', 2 * SECOND + 1))
                .isEqualTo(Verdict.CLIENT_IDLE);
        assertThat(Verdict.CLIENT_IDLE.message).isEqualTo("client_idle_timeout");
    }

    @Test
    void waitingForABackendOrRestoringItIsNeitherIdleNorInATransaction() {
        for (State s : new State[] {State.LEASING, State.RESTORING, State.FIXUP, State.CLOSED}) {
            assertThat(both.verdict(s, 0, false, false, (byte) 'T', 60 * SECOND)).as(s.name()).isEqualTo(Verdict.NONE);
        }
    }

    @Test
    void aBackendHeldAtRestOutsideATransactionIsExempt() {
        // session mode or a pinned client between transactions: PgBouncer skips a client linked to a server
        assertThat(both.verdict(State.LEASED, 0, false, false, (byte) 'I', 60 * SECOND)).isEqualTo(Verdict.NONE);
    }

    @Test
    void idleInATransactionOrAFailedOneOutlivesIdleTransactionTimeout() {
        assertThat(both.verdict(State.LEASED, 0, false, false, (byte) 'T', SECOND)).isEqualTo(Verdict.NONE);
        assertThat(both.verdict(State.LEASED, 0, false, false, (byte) 'T', SECOND + 1))
                .isEqualTo(Verdict.IDLE_IN_TRANSACTION);
        assertThat(both.verdict(State.LEASED, 0, false, false, (byte) 'E', SECOND + 1))
                .isEqualTo(Verdict.IDLE_IN_TRANSACTION);
        assertThat(Verdict.IDLE_IN_TRANSACTION.message).isEqualTo("idle transaction timeout");
    }

    @Test
    void somethingOutstandingIsNotIdle() {
        long long_ = 60 * SECOND;
        assertThat(both.verdict(State.LEASED, 1, false, false, (byte) 'T', long_)).as("a query running")
                .isEqualTo(Verdict.NONE);
        assertThat(both.verdict(State.LEASED, 0, true, false, (byte) 'T', long_)).as("Parse/Bind sent, no Sync yet")
                .isEqualTo(Verdict.NONE);
        assertThat(both.verdict(State.LEASED, 0, false, true, (byte) 'T', long_)).as("COPY FROM STDIN under way")
                .isEqualTo(Verdict.NONE);
    }

    @Test
    void aLimitAtZeroNeverFires() {
        IdleLimits txOnly = IdleLimits.of(Duration.ZERO, Duration.ofSeconds(1));
        assertThat(txOnly.verdict(State.IDLE, 0, false, false, (byte) 'I', Long.MAX_VALUE)).isEqualTo(Verdict.NONE);
        IdleLimits clientOnly = IdleLimits.of(Duration.ofSeconds(1), Duration.ZERO);
        assertThat(clientOnly.verdict(State.LEASED, 0, false, false, (byte) 'T', Long.MAX_VALUE))
                .isEqualTo(Verdict.NONE);
    }

    @Test
    void theSweepRunsAtATenthOfTheShortestLimitWithinBounds() {
        assertThat(both.sweepNanos()).isEqualTo(Duration.ofMillis(100).toNanos());
        assertThat(IdleLimits.of(Duration.ofSeconds(5), Duration.ZERO).sweepNanos())
                .isEqualTo(Duration.ofMillis(500).toNanos());
        assertThat(IdleLimits.of(Duration.ofMinutes(10), Duration.ofMinutes(5)).sweepNanos())
                .isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(IdleLimits.of(Duration.ofMillis(200), Duration.ZERO).sweepNanos())
                .isEqualTo(Duration.ofMillis(100).toNanos());
    }
}
