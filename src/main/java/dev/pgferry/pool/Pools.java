package dev.pgferry.pool;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

/** Every pool, created on first use of its (database, user). */
public final class Pools {
    private final ConcurrentHashMap<PoolKey, Pool> pools = new ConcurrentHashMap<>();
    private final Function<PoolKey, Pool> factory;
    private final List<Consumer<Pool>> creationListeners = new CopyOnWriteArrayList<>();
    private final HostRoles hostRoles;

    public Pools(Function<PoolKey, Pool> factory) {
        this(factory, null);
    }

    /** @param hostRoles the role checks of every host list, which RELOAD re-lists; null in tests without lists */
    public Pools(Function<PoolKey, Pool> factory, HostRoles hostRoles) {
        this.factory = factory;
        this.hostRoles = hostRoles;
    }

    /** The role checks of the host lists; null where pools were made without them. */
    public HostRoles hostRoles() {
        return hostRoles;
    }

    public Pool get(PoolKey key) {
        Pool p = pools.get(key);
        if (p != null) {
            return p;
        }
        boolean[] created = {false};
        p = pools.computeIfAbsent(key, k -> {
            created[0] = true;
            return factory.apply(k);
        });
        if (created[0]) {
            for (Consumer<Pool> l : creationListeners) {
                l.accept(p);
            }
        }
        return p;
    }

    public Collection<Pool> all() {
        return pools.values();
    }

    /**
     * Calls {@code listener} for every pool that exists now and every pool created later (metrics, a PAUSE
     * that must cover pools yet to come). A pool created while this runs may be reported twice.
     */
    public void onPool(Consumer<Pool> listener) {
        creationListeners.add(listener);
        for (Pool p : pools.values()) {
            listener.accept(p);
        }
    }
}
