package dev.pgferry.pool;

import dev.pgferry.backend.PoolSlot;
import dev.pgferry.backend.ServerConnection;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The part of a pool that lives on one event loop: its idle backends and its waiting clients. Touched
 * only on that loop, except the volatile counters other loops read to decide whether to hand a backend over. It is
 * the {@link PoolSlot} of the backends it counts, so that a backend given back finds its loop's part of its pool.
 */
final class Shard implements PoolSlot {
    private final Pool pool;
    final EventLoop loop;
    final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
    final ArrayDeque<Waiting> waiters = new ArrayDeque<>();
    final AtomicInteger waitingCount = new AtomicInteger();
    volatile int idleCount;
    /** When the oldest waiter started waiting (0: nobody waits), for other threads (SHOW POOLS, metrics). */
    volatile long oldestWaitSince;
    int connecting;
    /** Backends being offered, and whether an offer is under way (see Pool#offer). */
    final ArrayDeque<ServerConnection> offers = new ArrayDeque<>(2);
    boolean offering;
    /** A connect retry after a failure is scheduled (see PoolGrowth#grow). */
    boolean retryScheduled;
    /** A second look for other loops' idle backends is scheduled (see LoopLending#askOthersForIdle). */
    boolean rebalanceScheduled;
    /** A second offer of this shard's idle backends to loops whose waiters are not due yet is scheduled (see LoopLending#lendWhenDue). */
    boolean lendScheduled;
    /** Backends of this shard out with clients; read by other loops to tell whether this one is starved. */
    volatile int leased;
    /** Backends given back while a cancel forwarded for them is in flight (see Pool#release); counted from any thread. */
    final java.util.Set<ServerConnection> beingCanceled = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Shard(Pool pool, EventLoop loop) {
        this.pool = pool;
        this.loop = loop;
    }

    @Override
    public void release(ServerConnection c) {
        pool.released(this, c);
    }

    @Override
    public void discard(ServerConnection c) {
        pool.discarded(this, c);
    }

    @Override
    public void refusedWrite(ServerConnection c) {
        PoolHosts.refusedWrite(c);
    }

    /** Puts {@code waiter} at the end of the queue. */
    void enqueue(LeaseWaiter waiter) {
        waiters.addLast(new Waiting(waiter));
        noteOldestWaiter();
        waitingCount.incrementAndGet();
    }

    /** Takes the first waiter still waiting off the queue, or null; it is done waiting. */
    Waiting nextWaiter() {
        Waiting w;
        while ((w = pollWaiter()) != null) {
            if (!w.done) {
                w.done = true;
                return w;
            }
        }
        return null;
    }

    /** Takes the first queued waiter off the queue, done or not, or null. */
    Waiting pollWaiter() {
        Waiting w = waiters.pollFirst();
        if (w != null) {
            noteOldestWaiter();
            waitingCount.decrementAndGet();
        }
        return w;
    }

    /** Takes {@code w} off the queue unless it is done waiting; whether it was taken. */
    boolean remove(Waiting w) {
        if (w.done) {
            return false;
        }
        w.done = true;
        waiters.remove(w);
        noteOldestWaiter();
        waitingCount.decrementAndGet();
        return true;
    }

    /** Takes the waiter of {@code waiter} off the queue if it still waits there (a cancel); whether it did. */
    boolean withdraw(LeaseWaiter waiter) {
        for (Waiting w : waiters) {
            if (w.waiter == waiter && !w.done) {
                return remove(w);
            }
        }
        return false;
    }

    void noteOldestWaiter() {
        Waiting head = waiters.peekFirst();
        oldestWaitSince = head == null ? 0 : head.sinceNanos;
    }

    void pushIdle(ServerConnection c) {
        idle.addLast(c);
        idleCount = idle.size();
    }

    ServerConnection popIdle() {
        ServerConnection c = idle.pollLast();
        idleCount = idle.size();
        return c;
    }

    boolean removeIdle(ServerConnection c) {
        boolean removed = idle.remove(c);
        idleCount = idle.size();
        return removed;
    }

    /** A client in the wait queue; the shard's sweep gives up on its behalf after the wait timeout. */
    static final class Waiting {
        final LeaseWaiter waiter;
        final long sinceNanos;
        boolean done;

        Waiting(LeaseWaiter waiter) {
            this(waiter, System.nanoTime());
        }

        Waiting(LeaseWaiter waiter, long sinceNanos) {
            this.waiter = waiter;
            this.sinceNanos = sinceNanos;
        }
    }
}
