package dev.pgferry.pool;

import dev.pgferry.backend.ServerConnection;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The part of a pool that lives on one event loop: its idle backends and its waiting clients. Touched
 * only on that loop, except the volatile counters other loops read to decide whether to hand a backend over.
 */
final class Shard {
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
    /** A connect retry after a failure is scheduled (see Pool#grow). */
    boolean retryScheduled;
    /** A second look for other loops' idle backends is scheduled (see Pool#askOthersForIdle). */
    boolean rebalanceScheduled;
    /** A second offer of this shard's idle backends to loops whose waiters are not due yet is scheduled (see Pool#lendWhenDue). */
    boolean lendScheduled;
    /** Backends of this shard out with clients; read by other loops to tell whether this one is starved. */
    volatile int leased;
    /** Backends given back while a cancel forwarded for them is in flight (see Pool#release); counted from any thread. */
    final java.util.Set<ServerConnection> beingCanceled = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Shard(EventLoop loop) {
        this.loop = loop;
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
        final long sinceNanos = System.nanoTime();
        boolean done;

        Waiting(LeaseWaiter waiter) {
            this.waiter = waiter;
        }
    }
}
