package dev.pgferry.pool;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** Every pool, created on first use of its (database, user). */
public final class Pools {
    private final ConcurrentHashMap<PoolKey, Pool> pools = new ConcurrentHashMap<>();
    private final Function<PoolKey, Pool> factory;

    public Pools(Function<PoolKey, Pool> factory) {
        this.factory = factory;
    }

    public Pool get(PoolKey key) {
        Pool p = pools.get(key);
        return p != null ? p : pools.computeIfAbsent(key, factory);
    }

    public Collection<Pool> all() {
        return pools.values();
    }
}
