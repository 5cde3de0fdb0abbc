package dev.pgferry.pool;

/** A pool serves one (database, user) pair, as in PgBouncer. */
public record PoolKey(String database, String user) {
    @Override
    public String toString() {
        return database + "/" + user;
    }
}
