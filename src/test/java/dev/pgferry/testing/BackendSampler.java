package dev.pgferry.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The most client backends a database had in PostgreSQL's {@code pg_stat_activity}, sampled on a pool thread from the
 * start until {@link #most()}: what a pool's or the cluster's budget must bound. Backends whose
 * {@code application_name} is {@code except} (a test's own direct connection) are not counted.
 */
public final class BackendSampler {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger most = new AtomicInteger();
    private final Future<?> sampler;

    public BackendSampler(PostgresFixture pg, ExecutorService pool, String database, String except, Duration every) {
        String sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database.replace("'", "''")
                + "' AND backend_type = 'client backend'"
                + (except == null ? "" : " AND application_name <> '" + except.replace("'", "''") + "'");
        sampler = pool.submit(() -> {
            try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "postgres"); Statement st = c.createStatement()) {
                while (running.get()) {
                    try (ResultSet rs = st.executeQuery(sql)) {
                        rs.next();
                        most.accumulateAndGet(rs.getInt(1), Math::max);
                    }
                    Thread.sleep(every.toMillis());
                }
            }
            return null;
        });
    }

    /** Stops sampling (a failed sample is thrown here) and returns the most seen. */
    public int most() throws Exception {
        running.set(false);
        sampler.get();
        return most.get();
    }

    /** Stops sampling without waiting (on the way out of a failed test). */
    public void stop() {
        running.set(false);
    }
}
