package dev.pgferry.peer;

import dev.pgferry.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** What the peering tests read from PostgreSQL's pg_stat_activity: a query running, the backends of database bench. */
final class ServerActivity {
    private ServerActivity() {}

    /** Waits until PostgreSQL runs {@code sql} for someone (up to 5 s). */
    static void awaitRunning(PostgresFixture pg, String sql) throws Exception {
        try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "postgres"); Statement st = c.createStatement()) {
            for (int i = 0; i < 200; i++) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                        + " AND query = '" + sql.replace("'", "''") + "'")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(25);
            }
        }
        throw new AssertionError(sql + " never ran");
    }

    /**
     * The most client backends database {@code bench} had, sampled every 50 ms on {@code pool} from its start until
     * {@link #most()}: what the cluster budget must bound.
     */
    static final class BenchBackends {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger most = new AtomicInteger();
        private final Future<?> sampler;

        BenchBackends(PostgresFixture pg, ExecutorService pool) {
            sampler = pool.submit(() -> {
                try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "postgres"); Statement st = c.createStatement()) {
                    while (running.get()) {
                        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench'"
                                + " AND backend_type = 'client backend'")) {
                            rs.next();
                            most.accumulateAndGet(rs.getInt(1), Math::max);
                        }
                        Thread.sleep(50);
                    }
                }
                return null;
            });
        }

        /** Stops sampling (a failed sample is thrown here) and returns the most seen. */
        int most() throws Exception {
            running.set(false);
            sampler.get();
            return most.get();
        }

        /** Stops sampling without waiting (on the way out of a failed test). */
        void stop() {
            running.set(false);
        }
    }
}
