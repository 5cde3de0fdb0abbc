package dev.pgferry.pool;

import dev.pgferry.backend.BackendTarget;
import dev.pgferry.config.EffectivePoolConfig;
import dev.pgferry.config.PgferryConfig;

/**
 * What a pool of (database, user) is made of under one configuration: its server and its settings, resolved by
 * {@link EffectivePoolConfig}. Used when a pool is created and again by RELOAD ({@link Pool#reconfigure}).
 */
public record PoolPlan(BackendTarget target, PoolSettings settings, int maxDbConnections, int maxUserConnections) {

    public static PoolPlan of(PgferryConfig config, PoolKey key) {
        EffectivePoolConfig e = new EffectivePoolConfig(config);
        String db = key.database();
        PgferryConfig.Pool p = config.pool();
        PoolSettings settings = new PoolSettings(e.poolMode(db, key.user()), e.poolSize(db, key.user()),
                e.minPoolSize(db), p.idleTimeout(), p.maxLifetime(), p.queryWaitTimeout(), e.reserveSize(db, key.user()),
                p.reserveTimeout());
        return new PoolPlan(new BackendTarget(e.host(db), e.port(db), e.dbname(db)), settings, e.maxDbConnections(db),
                e.maxUserConnections(serverUser(e, key)));
    }

    /**
     * The pool a client of {@code database} logged in as {@code clientUser} joins: with a forced user (PgBouncer's user=
     * of [databases]) the one pool of (database, forced user) that all the database's clients share, as PgBouncer's
     * finish_set_pool takes {@code get_pool(db, db->forced_user_credentials)}; else (database, client user). Not under
     * {@code pgferry.auth.type=passthrough}: there the server authenticates each client on a backend of the client's
     * own, which joins the client's pool, so clients of different users must not share one.
     */
    public static PoolKey key(PgferryConfig config, String database, String clientUser) {
        if (config.auth().type() == PgferryConfig.AuthType.PASSTHROUGH) {
            return new PoolKey(database, clientUser);
        }
        return new PoolKey(database, new EffectivePoolConfig(config).forcedUser(database).orElse(clientUser));
    }

    /** The user the server sees: the database's forced user (PgBouncer's user= of [databases]), else the client's. */
    public static String serverUser(EffectivePoolConfig e, PoolKey key) {
        return e.forcedUser(key.database()).orElse(key.user());
    }
}
