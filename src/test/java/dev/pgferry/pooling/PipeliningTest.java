package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.count;
import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Extended-protocol batches, several Syncs in flight, COPY both ways and errors inside transactions, over a pool
 * of one backend ({@code postgres/postgres}): if pgferry miscounted, the backend would never come back (the next
 * client times out after 2 s) or would come back mid-transaction.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class PipeliningTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "postgres";
    static final String DB = "postgres";

    @BeforeEach
    void table() throws SQLException {
        Clients.directExec(DB, "drop table if exists pooling_pipe",
                "create table pooling_pipe (id int primary key, t text)");
    }

    /**
     * The one backend went back to the pool outside any transaction: the server shows no session of this pool idle
     * in a transaction, and another client is served at once (not after the 2 s wait timeout).
     */
    private void backendComesBackClean() throws SQLException {
        try (Connection d = Clients.direct(DB)) {
            assertThat(one(d, "select count(*) from pg_stat_activity where usename = '" + USER + "' and datname = '"
                    + DB + "' and pid <> pg_backend_pid() and state <> 'idle'")).isEqualTo("0");
        }
        long t0 = System.nanoTime();
        try (Connection other = Clients.proxy(port, USER, DB)) {
            assertThat(one(other, "select txid_current_if_assigned() is null")).isEqualTo("t");
        }
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds to be served").isLessThan(1.5);
    }

    @Test
    @Timeout(60)
    void jdbcBatchOfInsertsInAutocommitAndInATransaction() throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB);
                PreparedStatement ps = c.prepareStatement("insert into pooling_pipe values (?, ?)")) {
            for (int i = 0; i < 1000; i++) {
                ps.setInt(1, i);
                ps.setString(2, "row " + i);
                ps.addBatch();
            }
            assertThat(ps.executeBatch()).hasSize(1000).containsOnly(1);
            backendComesBackClean();
            c.setAutoCommit(false);
            for (int i = 1000; i < 2000; i++) {
                ps.setInt(1, i);
                ps.setString(2, "row " + i);
                ps.addBatch();
            }
            ps.executeBatch();
            c.commit();
            c.setAutoCommit(true);
            assertThat(count(c, "select count(*) from pooling_pipe")).isEqualTo(2000);
        }
        backendComesBackClean();
    }

    @Test
    @Timeout(60)
    void jdbcBatchWithAFailingRowCommitsNothingInATransaction() throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("insert into pooling_pipe values (?, ?)")) {
                for (int i = 0; i < 100; i++) {
                    ps.setInt(1, i == 50 ? 49 : i); // duplicate key in the middle
                    ps.setString(2, "x");
                    ps.addBatch();
                }
                assertThatThrownBy(ps::executeBatch).satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("23505"));
            }
            c.rollback();
            c.setAutoCommit(true);
            assertThat(count(c, "select count(*) from pooling_pipe")).isZero();
        }
        backendComesBackClean();
    }

    /** Vert.x PG client options for USER on DB through pgferry, {@code pipeliningLimit} queries in flight. */
    private PgConnectOptions vertxOptions(int pipeliningLimit) {
        return new PgConnectOptions().setHost(Clients.HOST).setPort(port).setDatabase(DB).setUser(USER)
                .setPassword(Clients.PASSWORDS.get(USER)).setPipeliningLimit(pipeliningLimit);
    }

    @Test
    @Timeout(60)
    void vertxPipelinedQueriesOnTwoConnectionsShareOneBackend() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            PgConnectOptions opts = vertxOptions(64);
            PgConnection a = await(PgConnection.connect(vertx, new PgConnectOptions(opts).setCachePreparedStatements(true)));
            PgConnection b = await(PgConnection.connect(vertx, new PgConnectOptions(opts).setCachePreparedStatements(true)));
            List<Future<RowSet<Row>>> futures = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                PgConnection conn = i % 2 == 0 ? a : b;
                if (i % 3 == 0) {
                    futures.add(conn.query("select " + i + " as n").execute());
                } else {
                    futures.add(conn.preparedQuery("select $1::int as n").execute(Tuple.of(i)));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                RowSet<Row> rows = await(futures.get(i));
                assertThat(rows.iterator().next().getInteger("n")).as("query %d", i).isEqualTo(i);
            }
            // an error in the middle of a pipeline: only that query fails
            Future<RowSet<Row>> before = a.preparedQuery("select $1::int as n").execute(Tuple.of(1));
            Future<RowSet<Row>> failing = a.preparedQuery("select 1 / $1::int as n").execute(Tuple.of(0));
            Future<RowSet<Row>> after = a.preparedQuery("select $1::int as n").execute(Tuple.of(3));
            assertThat(await(before).iterator().next().getInteger("n")).isEqualTo(1);
            assertThatThrownBy(() -> await(failing)).hasMessageContaining("division by zero");
            assertThat(await(after).iterator().next().getInteger("n")).isEqualTo(3);
            backendComesBackClean();
            await(a.close());
            await(b.close());
        } finally {
            await(vertx.close());
        }
    }

    /**
     * The Vert.x client's default (no statement cache) prepares a query as Parse of the unnamed statement + Describe
     * + Sync, then runs it as Bind + Execute + Sync: the unnamed statement must outlive the first Sync for this
     * client, even when another client used the backend in between (here: simple queries, which drop the server's
     * unnamed statement).
     */
    @Test
    @Timeout(60)
    void vertxUnnamedStatementsSurviveAnotherClientBetweenPrepareAndExecute() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            PgConnectOptions opts = vertxOptions(1);
            PgConnection a = await(PgConnection.connect(vertx, opts)); // cachePreparedStatements=false: the default
            PgConnection b = await(PgConnection.connect(vertx, opts));
            List<Future<RowSet<Row>>> prepared = new ArrayList<>();
            List<Future<RowSet<Row>>> simple = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                prepared.add(a.preparedQuery("select $1::int as n").execute(Tuple.of(i)));
                simple.add(b.query("select " + i + " as n").execute());
            }
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                try {
                    assertThat(await(prepared.get(i)).iterator().next().getInteger("n")).isEqualTo(i);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add(i + ": " + e.getCause().getMessage());
                }
                assertThat(await(simple.get(i)).iterator().next().getInteger("n")).isEqualTo(i);
            }
            assertThat(failures).as("prepared queries of the uncached Vert.x connection that failed").isEmpty();
            await(a.close());
            await(b.close());
        } finally {
            await(vertx.close());
        }
    }

    @Test
    @Timeout(60)
    void copyFromStdinAndToStdoutThroughALease() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 20000; i++) {
            data.append(i).append('\t').append("line ").append(i).append('\n');
        }
        try (Connection c = Clients.proxy(port, USER, DB)) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            assertThat(copy.copyIn("copy pooling_pipe (id, t) from stdin", new StringReader(data.toString())))
                    .isEqualTo(20000);
            backendComesBackClean();
            StringWriter out = new StringWriter();
            assertThat(copy.copyOut("copy (select id, t from pooling_pipe order by id) to stdout", out)).isEqualTo(20000);
            assertThat(out.toString()).isEqualTo(data.toString());
            backendComesBackClean();
            // bad data: the COPY fails, the connection and the backend stay usable
            assertThatThrownBy(() -> copy.copyIn("copy pooling_pipe (id, t) from stdin", new StringReader("x\ty\n")))
                    .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("22P02"));
            assertThat(count(c, "select count(*) from pooling_pipe")).isEqualTo(20000);
        }
        backendComesBackClean();
    }

    @Test
    @Timeout(60)
    void errorMidTransactionThenRollbackLeavesAWorkingConnection() throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB)) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("insert into pooling_pipe values (1, 'a')");
                assertThatThrownBy(() -> st.execute("select 1/0"))
                        .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("22012"));
                assertThatThrownBy(() -> st.execute("select 1"))
                        .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("25P02"));
            }
            c.rollback();
            assertThat(one(c, "select 42")).isEqualTo("42");
            c.commit();
            c.setAutoCommit(true);
            assertThat(count(c, "select count(*) from pooling_pipe")).isZero();
        }
        backendComesBackClean();
    }

    @Test
    @Timeout(60)
    void multiStatementSimpleQueryIsOneImplicitTransaction() throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB, "preferQueryMode", "simple")) {
            try (Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute(
                        "insert into pooling_pipe values (1, 'a'); select 1/0; insert into pooling_pipe values (2, 'b')"))
                        .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("22012"));
            }
            assertThat(count(c, "select count(*) from pooling_pipe")).as("nothing of the failed query committed").isZero();
            try (Statement st = c.createStatement()) {
                st.execute("insert into pooling_pipe values (1, 'a'); insert into pooling_pipe values (2, 'b')");
            }
            assertThat(count(c, "select count(*) from pooling_pipe")).isEqualTo(2);
        }
        backendComesBackClean();
    }

    static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
