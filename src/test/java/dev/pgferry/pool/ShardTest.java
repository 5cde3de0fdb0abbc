package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.backend.ServerConnection;
import org.junit.jupiter.api.Test;

/** A shard's wait queue and the counters other loops read from it. */
class ShardTest {
    private final Shard shard = new Shard(null, null);

    private static LeaseWaiter waiter() {
        return new LeaseWaiter() {
            @Override
            public void onLease(ServerConnection conn) {}

            @Override
            public void onLeaseFailed(PoolException error) {}
        };
    }

    @Test
    void waitersAreServedFirstComeFirstServed() {
        LeaseWaiter a = waiter(), b = waiter();
        shard.enqueue(a);
        long since = shard.oldestWaitSince;
        shard.enqueue(b);
        assertThat(shard.waitingCount.get()).isEqualTo(2);
        assertThat(shard.oldestWaitSince).as("the oldest waiter's start").isEqualTo(since).isNotZero();
        assertThat(shard.nextWaiter().waiter).isSameAs(a);
        assertThat(shard.nextWaiter().waiter).isSameAs(b);
        assertThat(shard.nextWaiter()).isNull();
        assertThat(shard.waitingCount.get()).isZero();
        assertThat(shard.oldestWaitSince).isZero();
    }

    @Test
    void aWithdrawnWaiterLeavesTheQueueOnce() {
        LeaseWaiter a = waiter(), b = waiter();
        shard.enqueue(a);
        shard.enqueue(b);
        assertThat(shard.withdraw(a)).isTrue();
        assertThat(shard.withdraw(a)).as("no longer waiting").isFalse();
        assertThat(shard.waitingCount.get()).isEqualTo(1);
        assertThat(shard.nextWaiter().waiter).isSameAs(b);
    }

    @Test
    void aWaiterDoneAlreadyIsNotTakenAgain() {
        shard.enqueue(waiter());
        Shard.Waiting w = shard.waiters.peekFirst();
        assertThat(shard.remove(w)).isTrue();
        assertThat(w.done).isTrue();
        assertThat(shard.remove(w)).isFalse();
        assertThat(shard.waitingCount.get()).isZero();
    }

    @Test
    void aDoneWaiterStillQueuedIsSkipped() {
        LeaseWaiter a = waiter(), b = waiter();
        shard.enqueue(a);
        shard.enqueue(b);
        shard.waiters.peekFirst().done = true; // its wait ended elsewhere while it was still queued
        assertThat(shard.nextWaiter().waiter).isSameAs(b);
        assertThat(shard.waitingCount.get()).isZero();
    }
}
