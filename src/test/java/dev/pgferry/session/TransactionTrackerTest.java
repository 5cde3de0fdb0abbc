package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The request count behind "at rest": Query/Sync/FunctionCall against ReadyForQuery, COPY, skipping to Sync. */
class TransactionTrackerTest {
    final TransactionTracker tx = new TransactionTracker();

    @Test
    void aFreshLeaseIsAtRestOutsideATransaction() {
        assertThat(tx.atRest()).isTrue();
        assertThat(tx.inTransaction()).isFalse();
        assertThat(tx.status()).isEqualTo((byte) 'I');
    }

    @Test
    void aSimpleQueryIsOutstandingUntilItsReadyForQuery() {
        tx.requestSent();
        assertThat(tx.atRest()).isFalse();
        assertThat(tx.readyForQuery((byte) 'T')).isTrue();
        assertThat(tx.atRest()).isTrue();
        assertThat(tx.inTransaction()).isTrue();
        tx.requestSent();
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        assertThat(tx.atRest()).isTrue();
        assertThat(tx.inTransaction()).isFalse();
    }

    @Test
    void pipelinedQueriesAreAnsweredOneReadyForQueryEach() {
        tx.requestSent();
        tx.requestSent();
        assertThat(tx.syncSent()).isTrue();
        assertThat(tx.pending()).isEqualTo(3);
        assertThat(tx.readyForQuery((byte) 'T')).isFalse();
        assertThat(tx.readyForQuery((byte) 'T')).isFalse();
        assertThat(tx.atRest()).isFalse();
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        assertThat(tx.atRest()).isTrue();
    }

    @Test
    void anExtendedBatchIsNotAtRestBeforeItsSync() {
        tx.unsyncedSent(); // Parse
        tx.unsyncedSent(); // Bind
        tx.unsyncedSent(); // Execute
        assertThat(tx.pending()).isZero();
        assertThat(tx.atRest()).as("Parse/Bind/Execute sent without a Sync").isFalse();
        assertThat(tx.syncSent()).isTrue();
        assertThat(tx.atRest()).isFalse();
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        assertThat(tx.atRest()).isTrue();
    }

    @Test
    void aFlushKeepsTheBatchOpen() {
        tx.unsyncedSent(); // Flush
        assertThat(tx.atRest()).isFalse();
    }

    @Test
    void aSyncInCopyInIsIgnoredAsTheServerIgnoresIt() {
        tx.requestSent(); // COPY t FROM STDIN
        tx.copyInStarted();
        assertThat(tx.syncSent()).as("the server ignores Sync in copy-in mode").isFalse();
        assertThat(tx.pending()).isEqualTo(1);
        tx.copyEndSent();
        tx.commandOver();
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        assertThat(tx.atRest()).isTrue();
    }

    @Test
    void copyInIsNotAtRestUntilItsCommandIsOver() {
        tx.requestSent();
        assertThat(tx.readyForQuery((byte) 'T')).isTrue();
        tx.copyInStarted();
        assertThat(tx.pending()).isZero();
        assertThat(tx.atRest()).as("COPY FROM STDIN under way").isFalse();
        tx.commandOver(); // CommandComplete, or an ErrorResponse
        assertThat(tx.atRest()).isTrue();
    }

    @Test
    void syncsBehindACopysExecuteGetNoReadyForQuery() {
        tx.unsyncedSent(); // Execute of a COPY FROM STDIN
        tx.syncSent();
        tx.syncSent();
        tx.syncsIgnored(2);
        assertThat(tx.pending()).isZero();
        tx.syncsIgnored(5);
        assertThat(tx.pending()).as("never below zero").isZero();
    }

    @Test
    void anExtendedErrorSkipsUpToTheNextSyncNotYetSent() {
        tx.unsyncedSent();
        tx.skipToSync(false);
        assertThat(tx.skipping()).isTrue();
        assertThat(tx.syncSent()).isTrue();
        assertThat(tx.skipping()).isFalse();

        tx.skipToSync(true);
        assertThat(tx.skipping()).as("its Sync is already on its way").isFalse();
    }

    @Test
    void aFailedTransactionIsInATransaction() {
        tx.requestSent();
        tx.readyForQuery((byte) 'E');
        assertThat(tx.atRest()).isTrue();
        assertThat(tx.inTransaction()).isTrue();
    }

    @Test
    void anUnexpectedReadyForQueryNeverCountsBelowZero() {
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        assertThat(tx.pending()).isZero();
        tx.requestSent();
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
    }

    @Test
    void lastInFlightIsTheRequestBeingAnsweredAlone() {
        tx.requestSent();
        assertThat(tx.lastInFlight()).isTrue();
        tx.requestSent();
        assertThat(tx.lastInFlight()).isFalse();
        tx.readyForQuery((byte) 'T');
        tx.unsyncedSent();
        assertThat(tx.lastInFlight()).as("a Parse sent after it").isFalse();
    }

    @Test
    void resetIsAFreshLease() {
        tx.requestSent();
        tx.unsyncedSent();
        tx.copyInStarted();
        tx.skipToSync(false);
        tx.status((byte) 'T');
        tx.reset();
        assertThat(tx.atRest()).isTrue();
        assertThat(tx.inTransaction()).isFalse();
        assertThat(tx.skipping()).isFalse();
    }

    @Test
    void pgferrysOwnStatementsSetTheStatus() {
        tx.status((byte) 'T');
        assertThat(tx.inTransaction()).isTrue();
        assertThat(tx.atRest()).isTrue();
    }
}
