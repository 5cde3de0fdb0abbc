package dev.pgferry.observability.admin;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.Pools;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which databases PAUSE stopped. Kept apart from the pools because pools appear lazily: one created for a paused
 * database starts paused.
 */
final class PauseState {
    private final Pools pools;
    private final Set<String> databases = ConcurrentHashMap.newKeySet();
    private volatile boolean all;

    PauseState(Pools pools) {
        this.pools = pools;
        pools.onPool(p -> {
            if (paused(p.key().database())) {
                p.pause(true);
            }
        });
    }

    boolean paused(String database) {
        return all || databases.contains(database);
    }

    boolean allPaused() {
        return all;
    }

    /** Pauses one database, or every one when {@code database} is null; returns the pools paused now. */
    synchronized int pause(String database) {
        if (database == null) {
            all = true;
        } else {
            databases.add(database);
        }
        return apply(database, true);
    }

    /** Undoes {@link #pause}; returns the pools resumed. */
    synchronized int resume(String database) {
        if (database == null) {
            all = false;
            databases.clear();
        } else {
            databases.remove(database);
        }
        return apply(database, false);
    }

    private int apply(String database, boolean pause) {
        int n = 0;
        for (Pool p : pools.all()) {
            if ((database == null || p.key().database().equals(database)) && p.paused() != pause) {
                p.pause(pause);
                n++;
            }
        }
        return n;
    }
}
