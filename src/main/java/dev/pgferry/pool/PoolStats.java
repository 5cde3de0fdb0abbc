package dev.pgferry.pool;

import dev.pgferry.backend.ServerConnection;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * The counters of one pool, and what its shards hold, for the console (SHOW STATS, POOLS, SERVERS) and metrics: written by its event loops (the pool's and its sessions'),
 * read from any thread. Adders, not locks: a count read while it is written is off by the writes in flight.
 */
public final class PoolStats {
    public final LongAdder leases = new LongAdder();
    public final LongAdder waitTimeouts = new LongAdder();
    /** Clients closed by pgferry.client-idle-timeout and by pgferry.pool.idle-transaction-timeout. */
    public final LongAdder clientIdleTimeouts = new LongAdder();
    public final LongAdder idleTransactionTimeouts = new LongAdder();
    public final LongAdder connectErrors = new LongAdder();
    public final LongAdder totalWaitNanos = new LongAdder();
    public final LongAdder transactions = new LongAdder();
    /** Backends opened beyond the pool's size for clients that waited pgferry.pool.reserve-timeout. */
    public final LongAdder reserveOpened = new LongAdder();
    /** Idle backends moved to another event loop where clients were waiting. */
    public final LongAdder migrations = new LongAdder();
    public final LongAdder queries = new LongAdder();
    public final LongAdder bytesFromClients = new LongAdder();
    public final LongAdder bytesFromServers = new LongAdder();
    /** CancelRequests of the pool's clients forwarded to the server and not yet over. */
    private final AtomicInteger cancelsForwarded = new AtomicInteger();
    private volatile LongConsumer leaseWaitRecorder = nanos -> {};
    /** The pool's shards, read for counts and copies (filled by the pool after this is made). */
    private final Shard[] shards;

    PoolStats(Shard[] shards) {
        this.shards = shards;
    }

    /** Counts one lease after a wait of {@code waitedNanos} (0 when a backend was idle). */
    void leased(long waitedNanos) {
        leases.increment();
        totalWaitNanos.add(waitedNanos);
        leaseWaitRecorder.accept(waitedNanos);
    }

    /** Called on every lease with the nanoseconds the client waited; for a histogram. */
    public void leaseWaitRecorder(LongConsumer recorder) {
        this.leaseWaitRecorder = recorder;
    }

    /** A client's CancelRequest is forwarded to one of this pool's backends; {@link #cancelOver()} when it is over. */
    public void cancelForwarded() {
        cancelsForwarded.incrementAndGet();
    }

    public void cancelOver() {
        cancelsForwarded.decrementAndGet();
    }

    /** Counts for SHOW POOLS and metrics; read from any thread, so approximate. */
    public Pool.PoolCounts counts() {
        return counts(shards, System.nanoTime());
    }

    /** The idle backends, each shard's list copied on its own loop; for SHOW SERVERS, not for the hot path. */
    public CompletableFuture<List<ServerConnection>> idleConnections() {
        return copied(shards, s -> s.idle);
    }

    /** The backends held out of the pool until a cancel forwarded for them is over (see {@link Pool#release}). */
    public CompletableFuture<List<ServerConnection>> beingCanceledConnections() {
        return copied(shards, s -> s.beingCanceled);
    }

    /** What the shards' counters add up to at {@code now}; approximate, as they are read from another thread. */
    Pool.PoolCounts counts(Shard[] shards, long now) {
        int idle = 0, waiting = 0, leased = 0, connecting = 0, beingCanceled = 0;
        long maxWait = 0;
        for (Shard s : shards) {
            idle += s.idleCount;
            int w = s.waitingCount.get();
            waiting += w;
            leased += s.leased;
            connecting += s.connecting;
            beingCanceled += s.beingCanceled.size();
            long since = s.oldestWaitSince;
            if (since != 0 && w > 0) {
                maxWait = Math.max(maxWait, now - since);
            }
        }
        return new Pool.PoolCounts(idle, leased, connecting, waiting, maxWait, beingCanceled, cancelsForwarded.get());
    }

    /** A copy of each shard's {@code which}, taken on the shard's own loop. */
    static CompletableFuture<List<ServerConnection>> copied(Shard[] shards,
            Function<Shard, Collection<ServerConnection>> which) {
        List<ServerConnection> all = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<?>[] parts = new CompletableFuture<?>[shards.length];
        for (int i = 0; i < shards.length; i++) {
            Shard s = shards[i];
            CompletableFuture<Void> part = new CompletableFuture<>();
            s.loop.execute(() -> {
                all.addAll(which.apply(s));
                part.complete(null);
            });
            parts[i] = part;
        }
        return CompletableFuture.allOf(parts).thenApply(v -> List.copyOf(all));
    }
}
