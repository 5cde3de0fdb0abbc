package dev.pgferry.prepared;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.closeStatement;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.firstRow;
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
import java.sql.Statement;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Shared server-side statements that a schema change or a rolled-back transaction left invalid: a client's statement
 * prepared before the change fails as it would on PostgreSQL, while every new Parse of the text gets a fresh copy
 * instead of the stale one (pool of 1: every client is on the same backend).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class StaleSharedStatementTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "postgres";
    static final String PASSWORD = "secret";
    static final String DB = "postgres";

    RawWireClient client() throws Exception {
        return RawWireClient.login("127.0.0.1", port, 10_000, USER, PASSWORD, DB);
    }

    static void direct(String... sql) throws Exception {
        try (Connection c = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, DB); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    static String error(List<RawWireClient.Msg> messages) {
        return messages.stream().filter(m -> m.type() == 'E').map(m -> m.field('C')).findFirst().orElse(null);
    }

    @Test
    @Timeout(60)
    void alterTableUnderASharedStatementFailsOnlyTheClientThatMeetsIt() throws Exception {
        direct("drop table if exists stale_t", "create table stale_t (a int)", "insert into stale_t values (1)");
        try (RawWireClient old = client(); RawWireClient other = client()) {
            assertThat(error(old.exchange(1, parse("s", "select * from stale_t"), bind("s"), execute(), sync()))).isNull();
            assertThat(error(other.exchange(1, parse("o", "select * from stale_t"), bind("o"), execute(), sync())))
                    .isNull();
            direct("alter table stale_t add column b int");
            // as on PostgreSQL: the statement the client prepared before the change fails once
            assertThat(error(old.exchange(1, bind("s"), execute(), sync()))).isEqualTo("0A000");
            // as on PostgreSQL too: its retry and another old client's statement keep failing, the statements
            // they prepared are outdated; a new Parse of the text (an old client's or a new one's) is not
            assertThat(error(old.exchange(1, bind("s"), execute(), sync()))).isEqualTo("0A000");
            assertThat(error(other.exchange(1, bind("o"), execute(), sync()))).isEqualTo("0A000");
            assertThat(firstRow(old.exchange(1, closeStatement("s"), parse("s", "select * from stale_t"), bind("s"),
                    execute(), sync()))).containsExactly("1", null);
            for (int i = 0; i < 3; i++) {
                try (RawWireClient fresh = client()) {
                    assertThat(firstRow(fresh.exchange(1, parse("n", "select * from stale_t"), bind("n"), execute(),
                            sync()))).as("new client " + i).containsExactly("1", null);
                }
            }
        }
    }

    Connection pgjdbc() throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        p.setProperty("prepareThreshold", "1");
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/" + DB, p);
    }

    static int columns(java.sql.PreparedStatement ps) throws Exception {
        try (java.sql.ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getMetaData().getColumnCount();
        }
    }

    /** pgjdbc, as with PostgreSQL: the old client's statement fails once inside a transaction, no other client's. */
    @Test
    @Timeout(60)
    void pgjdbcClientsAfterAlterTableUnderASharedStatement() throws Exception {
        direct("drop table if exists stale_j", "create table stale_j (a int)", "insert into stale_j values (1)");
        try (Connection old = pgjdbc(); Connection other = pgjdbc();
                java.sql.PreparedStatement ps = old.prepareStatement("select * from stale_j");
                java.sql.PreparedStatement ops = other.prepareStatement("select * from stale_j")) {
            for (int i = 0; i < 3; i++) {
                assertThat(columns(ps)).isEqualTo(1);
                assertThat(columns(ops)).isEqualTo(1);
            }
            direct("alter table stale_j add column b int");
            // in autocommit pgjdbc retries a 0A000 itself; inside a transaction it cannot, and the client sees it
            old.setAutoCommit(false);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> columns(ps))
                    .isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("0A000"));
            old.rollback();
            old.setAutoCommit(true);
            assertThat(columns(ps)).as("the old client's retry").isEqualTo(2);
            // another old client's statement still binds the outdated copy (not the one prepared again): its 0A000 is
            // PostgreSQL's, routine included, and pgjdbc prepares again and describes the new shape
            assertThat(columns(ops)).as("another old client").isEqualTo(2);
            for (int i = 0; i < 3; i++) {
                try (Connection fresh = pgjdbc(); java.sql.PreparedStatement f = fresh.prepareStatement("select * from stale_j")) {
                    assertThat(columns(f)).as("new client " + i).isEqualTo(2);
                    assertThat(columns(f)).as("new client " + i).isEqualTo(2);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void statementPreparedInATransactionRolledBackByPgferryIsPreparedAgain() throws Exception {
        direct("drop type if exists stale_e");
        try (RawWireClient a = client()) {
            a.exchange(1, query("begin"));
            a.exchange(1, query("create type stale_e as enum ('x')"));
            assertThat(error(a.exchange(1, parse("t", "select $1::stale_e"), sync()))).isNull();
        } // closed inside its transaction: pgferry rolls the backend back, the type is gone
        try (RawWireClient b = client()) {
            // as on PostgreSQL: the text is parsed afresh and the type is not found (not a stale copy's XX000)
            assertThat(error(b.exchange(1, parse("t", "select $1::stale_e"), sync()))).isEqualTo("42704");
        }
    }

    @Test
    @Timeout(60)
    void statementPreparedInATransactionTheClientRollsBackIsPreparedAgain() throws Exception {
        direct("drop type if exists stale_r");
        try (RawWireClient a = client(); RawWireClient b = client()) {
            a.exchange(1, query("begin"));
            a.exchange(1, query("create type stale_r as enum ('x')"));
            assertThat(error(a.exchange(1, parse("t", "select $1::stale_r"), sync()))).isNull();
            a.exchange(1, query("rollback"));
            assertThat(error(b.exchange(1, parse("t", "select $1::stale_r"), sync()))).isEqualTo("42704");
        }
    }
}
