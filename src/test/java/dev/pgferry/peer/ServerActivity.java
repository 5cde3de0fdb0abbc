package dev.pgferry.peer;

import dev.pgferry.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/** What the peering tests read from PostgreSQL's pg_stat_activity: whether a query runs. */
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
}
