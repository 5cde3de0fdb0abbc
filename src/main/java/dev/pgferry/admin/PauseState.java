package dev.pgferry.admin;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.Pools;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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
                p.control().pause();
            }
        });
    }

    boolean paused(String database) {
        return all || databases.contains(database);
    }

    /** The databases paused by name. */
    Set<String> databases() {
        return Set.copyOf(databases);
    }

    boolean allPaused() {
        return all;
    }

    /** Whether PAUSE stopped any database. */
    boolean anyPaused() {
        return all || !databases.isEmpty();
    }

    /** A paused pool and the completion of its drain (no backend left open). */
    record Drain(Pool pool, CompletableFuture<Void> drained) {}

    /**
     * Pauses one database, or every one when {@code database} is null; returns the drains of all its pools, those
     * paused before included (a second PAUSE waits as the first does).
     */
    synchronized List<Drain> pause(String database) {
        if (database == null) {
            all = true;
        } else {
            databases.add(database);
        }
        List<Drain> drains = new ArrayList<>();
        for (Pool p : poolsOf(database)) {
            drains.add(new Drain(p, p.control().pause()));
        }
        return drains;
    }

    /** Undoes {@link #pause}; returns the pools resumed. */
    synchronized int resume(String database) {
        if (database == null) {
            all = false;
            databases.clear();
        } else {
            databases.remove(database);
        }
        int n = 0;
        for (Pool p : poolsOf(database)) {
            if (p.control().paused()) {
                p.control().resume();
                n++;
            }
        }
        return n;
    }

    /** The pools of {@code database}, or every pool when it is null. */
    private List<Pool> poolsOf(String database) {
        List<Pool> of = new ArrayList<>();
        for (Pool p : pools.all()) {
            if (database == null || p.key().database().equals(database)) {
                of.add(p);
            }
        }
        return of;
    }
}
