package dev.pgferry.pool;

/**
 * A pool serves one (database, user) pair, as in PgBouncer; the user is the one its backends log in as: the client's,
 * or the database's forced user, whose pool all the database's clients share ({@link PoolPlan#key}).
 */
public record PoolKey(String database, String user) {
    @Override
    public String toString() {
        return database + "/" + user;
    }
}
