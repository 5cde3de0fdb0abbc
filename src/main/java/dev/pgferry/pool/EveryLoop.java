package dev.pgferry.pool;

import dev.pgferry.backend.ServerConnection;

/** What {@link PoolControl} acts on: each shard of one {@link Pool}, on its loop. */
final class EveryLoop implements PoolControl.Backends {
    private final Pool pool;

    EveryLoop(Pool pool) {
        this.pool = pool;
    }

    @Override
    public void closeIdle() {
        pool.onEveryLoop(s -> {
            ServerConnection c;
            while (pool.control.paused() && (c = s.popIdle()) != null) {
                pool.discardCounted(c);
            }
        });
    }

    @Override
    public void serveWaiters() {
        pool.onEveryLoop(pool::serveWaiters);
    }

    @Override
    public void closeBeingCanceled() {
        pool.onEveryLoop(s -> s.beingCanceled.forEach(ServerConnection::close)); // discarded once the cancel is over
    }

    @Override
    public void closeObsoleteIdle() {
        pool.onEveryLoop(s -> pool.closeIdleIf(s, c -> pool.control.obsolete(c.createdNanos())));
    }

    @Override
    public int total() {
        return pool.growth().total();
    }
}
