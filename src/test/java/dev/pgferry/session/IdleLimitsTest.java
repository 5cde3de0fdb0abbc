package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.session.IdleLimits.Verdict;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Which idle limit a client has outlived, as PgBouncer's janitor decides it; and how often the sweep looks. */
class IdleLimitsTest {
    static final long SECOND = Duration.ofSeconds(1).toNanos();
    final IdleLimits both = IdleLimits.of(Duration.ofSeconds(2), Duration.ofSeconds(1));

    /** A tracker as the relay leaves it: {@code pending} requests out, the last ReadyForQuery's {@code status}. */
    static TransactionTracker tx(int pending, boolean unsynced, boolean copyIn, char status) {
        TransactionTracker tx = new TransactionTracker();
        tx.requestSent();
        tx.readyForQuery((byte) status);
        for (int i = 0; i < pending; i++) {
            tx.requestSent();
        }
        if (unsynced) {
            tx.unsyncedSent();
        }
        if (copyIn) {
            tx.copyInStarted();
        }
        return tx;
    }

    @Test
    void bothZeroIsNoLimitsAtAll() {
        assertThat(IdleLimits.of(Duration.ZERO, Duration.ZERO)).isNull();
        assertThat(IdleLimits.of(Duration.ZERO, Duration.ofSeconds(1))).isNotNull();
        assertThat(IdleLimits.of(Duration.ofSeconds(1), Duration.ZERO)).isNotNull();
    }

    @Test
    void aClientHoldingNoBackendOutlivesClientIdleTimeoutOnlyPastIt() {
        assertThat(both.verdict(SessionState.IDLE, tx(0, false, false, 'I'), 2 * SECOND)).isEqualTo(Verdict.NONE);
        assertThat(both.verdict(SessionState.IDLE, tx(0, false, false, 'I'), 2 * SECOND + 1))
                .isEqualTo(Verdict.CLIENT_IDLE);
        assertThat(both.verdict(SessionState.SKIPPING_TO_SYNC, tx(0, false, false, 'I'), 2 * SECOND + 1))
                .as("skipping a failed batch up to its Sync holds no backend either").isEqualTo(Verdict.CLIENT_IDLE);
        assertThat(Verdict.CLIENT_IDLE.message).isEqualTo("client_idle_timeout");
    }

    @Test
    void waitingForABackendOrRestoringItIsNeitherIdleNorInATransaction() {
        for (SessionState s : new SessionState[] {SessionState.LEASING, SessionState.CHECKING, SessionState.RESTORING,
                SessionState.FIXUP, SessionState.CLOSED}) {
            assertThat(both.verdict(s, tx(0, false, false, 'T'), 60 * SECOND)).as(s.name()).isEqualTo(Verdict.NONE);
        }
    }

    @Test
    void aBackendHeldAtRestOutsideATransactionIsExempt() {
        // session mode or a pinned client between transactions: PgBouncer skips a client linked to a server
        assertThat(both.verdict(SessionState.RELAYING, tx(0, false, false, 'I'), 60 * SECOND)).isEqualTo(Verdict.NONE);
    }

    @Test
    void idleInATransactionOrAFailedOneOutlivesIdleTransactionTimeout() {
        assertThat(both.verdict(SessionState.RELAYING, tx(0, false, false, 'T'), SECOND)).isEqualTo(Verdict.NONE);
        assertThat(both.verdict(SessionState.RELAYING, tx(0, false, false, 'T'), SECOND + 1))
                .isEqualTo(Verdict.IDLE_IN_TRANSACTION);
        assertThat(both.verdict(SessionState.RELAYING, tx(0, false, false, 'E'), SECOND + 1))
                .isEqualTo(Verdict.IDLE_IN_TRANSACTION);
        assertThat(Verdict.IDLE_IN_TRANSACTION.message).isEqualTo("idle transaction timeout");
    }

    @Test
    void somethingOutstandingIsNotIdle() {
        long long_ = 60 * SECOND;
        assertThat(both.verdict(SessionState.RELAYING, tx(1, false, false, 'T'), long_)).as("a query running")
                .isEqualTo(Verdict.NONE);
        assertThat(both.verdict(SessionState.RELAYING, tx(0, true, false, 'T'), long_)).as("Parse/Bind sent, no Sync yet")
                .isEqualTo(Verdict.NONE);
        assertThat(both.verdict(SessionState.RELAYING, tx(0, false, true, 'T'), long_)).as("COPY FROM STDIN under way")
                .isEqualTo(Verdict.NONE);
    }

    @Test
    void aLimitAtZeroNeverFires() {
        IdleLimits txOnly = IdleLimits.of(Duration.ZERO, Duration.ofSeconds(1));
        assertThat(txOnly.verdict(SessionState.IDLE, tx(0, false, false, 'I'), Long.MAX_VALUE)).isEqualTo(Verdict.NONE);
        IdleLimits clientOnly = IdleLimits.of(Duration.ofSeconds(1), Duration.ZERO);
        assertThat(clientOnly.verdict(SessionState.RELAYING, tx(0, false, false, 'T'), Long.MAX_VALUE))
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
