package dev.pgferry.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The fixture's streaming replica is in recovery and follows the primary. */
class PostgresReplicaFixtureTest {

    @Test
    void replicaIsInRecoveryAndReplaysThePrimary() throws Exception {
        PostgresFixture primary = PostgresFixture.get();
        PostgresFixture replica = PostgresFixture.replica();
        assertTrue(replica.port() != primary.port());
        try (Connection p = primary.connect(PostgresFixture.SUPERUSER, "postgres");
                Statement st = p.createStatement()) {
            st.execute("create table if not exists replica_probe(v int)");
            st.execute("insert into replica_probe values (42)");
        }
        try (Connection r = replica.connect(PostgresFixture.SUPERUSER, "postgres");
                Statement st = r.createStatement()) {
            try (ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                assertTrue(rs.getBoolean(1));
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            int seen = 0;
            while (seen == 0 && System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("select count(*) from pg_class where relname = 'replica_probe'")) {
                    rs.next();
                    seen = rs.getInt(1);
                }
                if (seen == 0) {
                    Thread.sleep(50);
                }
            }
            assertEquals(1, seen, "the primary's table reached the replica");
        }
    }
}
