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

    /** The user the server sees: the database's forced user (PgBouncer's user= of [databases]), else the client's. */
    public static String serverUser(EffectivePoolConfig e, PoolKey key) {
        return e.forcedUser(key.database()).orElse(key.user());
    }
}
