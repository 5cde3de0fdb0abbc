package dev.pgferry.peer;

import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.BackendLimit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * pgferry.pool.cluster-max-db-connections, per database: this replica's share ({@link BackendShare}) of each
 * database's total, set on the database's {@link BackendLimit} whenever the replica count in force ({@link AliveCount})
 * moves. A replica that has just joined takes none until the others had time to see it and shrink, so that the shares
 * never add up to more than the total (with fewer replicas than backends). Reads the configuration in force each time, so RELOAD of a total applies with the next probe.
 */
public final class ClusterBudget {
    private final Supplier<PgferryConfig> config;
    private final Map<String, BackendLimit> limits = new ConcurrentHashMap<>();
    private volatile int alive = Integer.MAX_VALUE;

    public ClusterBudget(Supplier<PgferryConfig> config) {
        this.config = config;
    }

    /** Puts {@code database}'s limit under the budget; called for every pool, a database's limit is shared. */
    public void track(String database, BackendLimit limit) {
        if (limits.putIfAbsent(database, limit) == null) {
            limit.share(share(database));
        }
    }

    /** The replica count in force moved (or a total was reloaded): every database's share is set again. */
    public void alive(int count) {
        alive = count;
        limits.forEach((db, limit) -> limit.share(share(db)));
    }

    /** Sets every database's share again from the configuration in force (RELOAD changed a total). */
    public void reapply() {
        alive(alive);
    }

    /** The replica count the shares are computed from; {@link Integer#MAX_VALUE} before the first grace passed. */
    public int alive() {
        return alive;
    }

    /** The total of {@code database} for all replicas; 0 for none. */
    public int total(String database) {
        PgferryConfig c = config.get();
        PgferryConfig.Database d = c.databases().get(database);
        int own = d == null ? 0 : d.clusterMaxDbConnections().orElse(0);
        return own > 0 ? own : c.pool().clusterMaxDbConnections();
    }

    /**
     * This replica's share of {@code database}'s total now; 0 without a budget, {@link BackendLimit#SHARE_NOT_YET}
     * while it has just joined and waits for the others to make room (see {@link AliveCount}).
     */
    public int share(String database) {
        int total = total(database);
        if (total > 0 && alive == Integer.MAX_VALUE) {
            return BackendLimit.SHARE_NOT_YET;
        }
        return BackendShare.of(total, alive);
    }

    /** The databases with a cluster budget (a total above 0), and this replica's share of each now. */
    public Map<String, Integer> shares() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        limits.forEach((db, limit) -> {
            if (total(db) > 0) {
                out.put(db, limit.share());
            }
        });
        return out;
    }
}
