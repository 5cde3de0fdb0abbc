package dev.pgferry.pool;

import dev.pgferry.backend.ServerConnection;
import java.util.concurrent.TimeUnit;

/**
 * Moves idle backends of one pool between event loops where {@link LoopBalance} says a loop needs one: a loop whose
 * clients wait asks the others ({@link #askOthersForIdle}), a loop that parks a backend offers it again when another
 * loop's waiter is due ({@link #lendWhenDue}). Each move costs two epoll_ctl calls and two hand-offs between
 * threads, so under steady load, where every loop's own backends come back within microseconds, backends stay put.
 */
final class LoopLending {
    private final Pool pool;
    private final Shard[] shards;

    LoopLending(Pool pool, Shard[] shards) {
        this.pool = pool;
        this.shards = shards;
    }

    /** The first loop other than {@code s} that needs a backend now, or null. */
    Shard needing(Shard s) {
        if (shards.length > 1) {
            long now = System.nanoTime();
            for (Shard o : shards) {
                if (o != s && LoopBalance.needsBackend(o, now)) {
                    return o;
                }
            }
        }
        return null;
    }

    /**
     * A backend was just parked on shard {@code s} while clients may wait on other loops that did not need it yet
     * (see {@link LoopBalance#needsBackend}): {@code s} offers its idle backends again once the first of those is due.
     * Nothing else would: a waiter's own acquire looks at other loops' idle backends only when it arrives, and a
     * backend freed elsewhere within {@link LoopBalance#REBALANCE_AFTER_NANOS} after that (a session-mode client
     * leaving, its backend reset, just as the next one logs in) would idle here while the waiter timed out.
     */
    void lendWhenDue(Shard s) {
        if (shards.length == 1 || s.lendScheduled) {
            return;
        }
        long delay = LoopBalance.untilDue(s, shards, System.nanoTime());
        if (delay == LoopBalance.NONE) {
            return;
        }
        s.lendScheduled = true;
        s.loop.schedule(() -> {
            s.lendScheduled = false;
            ServerConnection c = pool.takeIdle(s);
            if (c != null) {
                pool.offer(s, c); // to a waiter here, to a loop now due, or parked again
            }
        }, Math.max(delay, LoopBalance.REBALANCE_AFTER_NANOS / 10), TimeUnit.NANOSECONDS);
    }

    /** Moves an idle backend's channel to another event loop (Netty re-registration), then offers it there. */
    void migrate(ServerConnection c, Shard to) {
        pool.stats().migrations.increment();
        c.poolSlot(null);
        c.channel().deregister().addListener(f -> {
            if (!f.isSuccess()) {
                pool.dropUncounted(c);
                return;
            }
            to.loop.register(c.channel()).addListener(g -> {
                if (!g.isSuccess() || !c.channel().isActive()) {
                    pool.dropUncounted(c);
                    return;
                }
                c.poolSlot(to);
                pool.offer(to, c);
            });
        });
    }

    /**
     * Shard {@code s} has waiters and nothing idle: other loops hand over an idle backend if {@code s} needs
     * one now (see {@link LoopBalance#needsBackend}) or they have two or more; otherwise {@code s} checks again once
     * its oldest waiter is due for rebalancing, in case its own backends are held by long transactions.
     */
    void askOthersForIdle(Shard s) {
        if (shards.length == 1) {
            return;
        }
        boolean needs = LoopBalance.needsBackend(s, System.nanoTime());
        boolean deferred = false;
        for (Shard o : shards) {
            if (o == s || o.idleCount == 0) {
                continue;
            }
            if (needs || o.idleCount > 1) {
                o.loop.execute(() -> {
                    if (s.waitingCount.get() > s.connecting) {
                        ServerConnection c = pool.takeIdle(o);
                        if (c != null) {
                            migrate(c, s);
                        }
                    }
                });
            } else {
                deferred = true;
            }
        }
        if (deferred && !s.rebalanceScheduled) {
            s.rebalanceScheduled = true;
            s.loop.schedule(() -> {
                s.rebalanceScheduled = false;
                if (s.waiters.size() > s.connecting && !pool.control.paused()) {
                    askOthersForIdle(s);
                }
            }, LoopBalance.REBALANCE_AFTER_NANOS, TimeUnit.NANOSECONDS);
        }
    }
}
