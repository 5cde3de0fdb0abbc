package dev.pgferry.prepared;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.describeStatement;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pooling.TinyPoolProfile;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Shared statements and schema changes made through pgferry, each scenario played through pgferry and straight
 * against PostgreSQL, which is the oracle (pool of 1: every client shares one backend and its copies). A Parse after
 * the change gets the new row shape, never an outdated copy's 0A000; a statement prepared before it fails with 0A000
 * when its shape changed, also where pgferry must prepare it again (never the new shape's rows, nor the server's 08P01
 * for result formats of the old shape), and runs when its shape did not change.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class SchemaChangeSharedStatementTest {
    static final String USER = "md5_u";
    static final String PASSWORD = "md5_pw";
    static final String DB = "postgres";

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    /** An arm: where its clients connect, and the table its scenario alters (one per arm). */
    record Arm(String host, int port, String table) {}

    List<Arm> arms(String table) throws SQLException {
        PostgresFixture pg = PostgresFixture.get();
        List<Arm> arms = List.of(new Arm("127.0.0.1", port, table + "_p"), new Arm(pg.host(), pg.port(), table + "_d"));
        for (Arm a : arms) {
            try (Connection c = pg.connect(PostgresFixture.SUPERUSER, DB); Statement st = c.createStatement()) {
                st.execute("drop table if exists " + a.table());
                st.execute("create table " + a.table() + " (a int)");
                st.execute("insert into " + a.table() + " values (1)");
                st.execute("alter table " + a.table() + " owner to " + USER);
            }
        }
        return arms;
    }

    static RawWireClient raw(Arm a) throws Exception {
        return RawWireClient.login(a.host(), a.port(), 10_000, USER, PASSWORD, DB);
    }

    /** The error code, or the column count of the first RowDescription, of each batch's answer. */
    static String outcome(List<RawWireClient.Msg> messages) {
        for (RawWireClient.Msg m : messages) {
            if (m.type() == 'E') {
                return "error " + m.field('C');
            }
            if (m.type() == 'T') {
                return "columns " + (((m.body()[0] & 0xff) << 8) | (m.body()[1] & 0xff));
            }
        }
        return "no rows";
    }

    @Test
    @Timeout(60)
    void aParseAfterAlterTableGetsTheNewShapeNotAnOutdatedSharedCopy() throws Exception {
        List<List<String>> seen = new ArrayList<>();
        for (Arm arm : arms("schema_parse")) {
            String select = "select * from " + arm.table();
            List<String> out = new ArrayList<>();
            try (RawWireClient a = raw(arm); RawWireClient b = raw(arm)) {
                out.add(outcome(a.exchange(1, parse("s", select), describeStatement("s"), bind("s"), execute(), sync())));
                out.add(outcome(b.exchange(1, query("alter table " + arm.table() + " add column b int"))));
                try (RawWireClient c = raw(arm)) {
                    // the Vert.x client's prepare(): Parse, Describe, Sync
                    out.add(outcome(c.exchange(1, parse("n", select), describeStatement("n"), sync())));
                    // the schema change and the Parse in one pipeline: the Parse comes after the change
                    out.add(outcome(c.exchange(1, parse("", "alter table " + arm.table() + " add column c int"),
                            bind(""), execute(), parse("m", select), describeStatement("m"), sync())));
                }
                // the statement prepared before both changes fails, as on PostgreSQL
                out.add(outcome(a.exchange(1, bind("s"), execute(), sync())));
            }
            seen.add(out);
        }
        assertThat(seen.get(1)).as("PostgreSQL").containsExactly("columns 1", "no rows", "columns 2", "columns 3",
                "error 0A000");
        assertThat(seen.get(0)).as("through pgferry").isEqualTo(seen.get(1));
    }

    static Connection pgjdbc(Arm a, int prepareThreshold) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        p.setProperty("prepareThreshold", String.valueOf(prepareThreshold));
        return new org.postgresql.Driver().connect("jdbc:postgresql://" + a.host() + ":" + a.port() + "/" + DB, p);
    }

    /** Runs the statement in a transaction of its own: its column count and first value, or its error. */
    static String runInTransaction(Connection c, PreparedStatement ps) throws SQLException {
        c.setAutoCommit(false); // in autocommit pgjdbc would heal a 0A000 by preparing again: the client sees it here
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getMetaData().getColumnCount() + " columns, a=" + rs.getString(1);
        } catch (SQLException e) {
            return "error " + e.getSQLState();
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    /**
     * pgjdbc caches the row description of its server-prepared statement and binds with result formats for it.
     * Another client's DISCARD ALL drops the shared copies of the one backend, so pgferry prepares the old client's
     * statement again, after the ALTER TABLE (the path of the differential's 08P01 and pgjdbc's failed decoding).
     */
    List<List<String>> oldStatementAfter(String table, String ddl, int prepareThreshold) throws Exception {
        List<List<String>> seen = new ArrayList<>();
        for (Arm arm : arms(table)) {
            List<String> out = new ArrayList<>();
            try (Connection old = pgjdbc(arm, prepareThreshold); Connection other = pgjdbc(arm, prepareThreshold);
                    PreparedStatement ps = old.prepareStatement("select * from " + arm.table())) {
                for (int i = 0; i < 3; i++) {
                    out.add(runInTransaction(old, ps));
                }
                try (Statement st = other.createStatement()) {
                    st.execute(ddl.replace("{t}", arm.table()));
                    st.execute("discard all");
                }
                out.add(runInTransaction(old, ps)); // fails once; pgjdbc then prepares it again
                out.add(runInTransaction(old, ps));
                old.setAutoCommit(true);
                try (ResultSet rs = ps.executeQuery()) { // autocommit: pgjdbc prepares again after a 0A000
                    out.add("autocommit: " + rs.getMetaData().getColumnCount() + " columns");
                }
            }
            seen.add(out);
        }
        return seen;
    }

    @Test
    @Timeout(60)
    void anOldStatementPreparedAgainAfterItsShapeChangedFailsAsOnPostgres() throws Exception {
        for (int threshold : new int[] {1, -1}) {
            List<List<String>> seen = oldStatementAfter("schema_old" + Math.abs(threshold),
                    "alter table {t} add column b int", threshold);
            assertThat(seen.get(1)).as("PostgreSQL, prepareThreshold " + threshold).containsExactly(
                    "1 columns, a=1", "1 columns, a=1", "1 columns, a=1", "error 0A000", "2 columns, a=1",
                    "autocommit: 2 columns");
            assertThat(seen.get(0)).as("through pgferry, prepareThreshold " + threshold).isEqualTo(seen.get(1));
        }
    }

    @Test
    @Timeout(60)
    void anOldStatementPreparedAgainAfterDdlThatKeptItsShapeRuns() throws Exception {
        List<List<String>> seen = oldStatementAfter("schema_same", "alter table {t} alter column a set default 7", -1);
        assertThat(seen.get(1)).as("PostgreSQL").containsExactly("1 columns, a=1", "1 columns, a=1", "1 columns, a=1",
                "1 columns, a=1", "1 columns, a=1", "autocommit: 1 columns");
        assertThat(seen.get(0)).as("through pgferry").isEqualTo(seen.get(1));
    }
}
