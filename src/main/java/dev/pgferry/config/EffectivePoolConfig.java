package dev.pgferry.config;

import dev.pgferry.config.PgferryConfig.PoolMode;
import dev.pgferry.hosts.HostList;
import dev.pgferry.hosts.TargetRole;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The settings a pool of (database, user) runs with, resolved as PgBouncer does (its server.c pool_pool_size,
 * pool_res_pool_size, database_max_connections, user_max_connections): the user's own ({@code pgferry.users."u".*})
 * win over the database's ({@code pgferry.databases."d".*}), which win over {@code pgferry.pool.*}; a connection
 * limit of 0 at the database or user falls back to the global one. The admin console's SHOW DATABASES and SHOW USERS
 * read the same resolution, so what they show is what the pools use.
 */
public final class EffectivePoolConfig {
    private final PgferryConfig config;

    public EffectivePoolConfig(PgferryConfig config) {
        this.config = config;
    }

    private Optional<PgferryConfig.Database> db(String database) {
        return Optional.ofNullable(config.databases().get(database));
    }

    private Optional<PgferryConfig.User> user(String user) {
        return Optional.ofNullable(config.users().get(user));
    }

    public String host(String database) {
        return db(database).flatMap(PgferryConfig.Database::host).orElse(config.backend().host());
    }

    public int port(String database) {
        return db(database).map(d -> d.port().orElse(config.backend().port())).orElse(config.backend().port());
    }

    /**
     * The database's servers: its {@code hosts} list, else its one host and port.
     *
     * @throws IllegalArgumentException naming {@code pgferry.databases."d".hosts} when that list is empty or malformed
     */
    public List<HostList.Address> hosts(String database) {
        Optional<String> list = db(database).flatMap(PgferryConfig.Database::hosts);
        if (list.isPresent()) {
            return HostList.parse("pgferry.databases.\"" + database + "\".hosts", list.get(), port(database));
        }
        return List.of(new HostList.Address(host(database), port(database)));
    }

    /** The database's {@code target-role}; {@code read-write} for a host list, {@code any} for one host. */
    public TargetRole targetRole(String database) {
        Optional<PgferryConfig.Database> d = db(database);
        return d.flatMap(PgferryConfig.Database::targetRole).orElse(
                d.flatMap(PgferryConfig.Database::hosts).isPresent() ? TargetRole.READ_WRITE : TargetRole.ANY);
    }

    /** Whether the database names its servers in a {@code hosts} list (then its pools route by role). */
    public boolean hasHostList(String database) {
        return db(database).flatMap(PgferryConfig.Database::hosts).isPresent();
    }

    /** The database's {@code max-replica-lag}, or null when lag does not matter. */
    public java.time.Duration maxReplicaLag(String database) {
        return db(database).flatMap(PgferryConfig.Database::maxReplicaLag).orElse(null);
    }

    public String dbname(String database) {
        return db(database).flatMap(PgferryConfig.Database::dbname).orElse(database);
    }

    /** The database's own pool size, else pgferry.pool.size: SHOW DATABASES' pool_size. */
    public int databasePoolSize(String database) {
        return db(database).map(d -> d.poolSize().orElse(config.pool().size())).orElse(config.pool().size());
    }

    /** The database's own pool mode, empty when it inherits (SHOW DATABASES shows NULL then, as PgBouncer). */
    public Optional<PoolMode> databasePoolMode(String database) {
        return db(database).flatMap(PgferryConfig.Database::poolMode);
    }

    public int minPoolSize(String database) {
        return db(database).map(d -> d.minPoolSize().orElse(config.pool().minIdle())).orElse(config.pool().minIdle());
    }

    public int databaseReserveSize(String database) {
        return db(database).map(d -> d.reserveSize().orElse(config.pool().reserveSize()))
                .orElse(config.pool().reserveSize());
    }

    public int maxDbConnections(String database) {
        int own = db(database).map(d -> d.maxDbConnections().orElse(0)).orElse(0);
        return own > 0 ? own : config.pool().maxDbConnections();
    }

    /** The user every backend of the database logs in as (PgBouncer's forced user), if any. */
    public Optional<String> forcedUser(String database) {
        return db(database).flatMap(PgferryConfig.Database::user);
    }

    public Optional<String> forcedPassword(String database) {
        return db(database).flatMap(PgferryConfig.Database::password);
    }

    /** The user's own pool size, if any: SHOW USERS' pool_size. */
    public OptionalInt userPoolSize(String user) {
        return user(user).map(PgferryConfig.User::poolSize).orElse(OptionalInt.empty());
    }

    public OptionalInt userReserveSize(String user) {
        return user(user).map(PgferryConfig.User::reserveSize).orElse(OptionalInt.empty());
    }

    public Optional<PoolMode> userPoolMode(String user) {
        return user(user).flatMap(PgferryConfig.User::poolMode);
    }

    public int maxUserConnections(String user) {
        int own = user(user).map(u -> u.maxUserConnections().orElse(0)).orElse(0);
        return own > 0 ? own : config.pool().maxUserConnections();
    }

    public PoolMode poolMode(String database, String user) {
        return userPoolMode(user).or(() -> databasePoolMode(database)).orElse(config.pool().mode());
    }

    public int poolSize(String database, String user) {
        OptionalInt own = userPoolSize(user);
        return own.isPresent() ? own.getAsInt() : databasePoolSize(database);
    }

    public int reserveSize(String database, String user) {
        OptionalInt own = userReserveSize(user);
        return own.isPresent() ? own.getAsInt() : databaseReserveSize(database);
    }
}
