package dev.pgferry.drain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.server.ProxyServer;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Graceful shutdown: logins are refused with 57P03, readiness goes DOWN, a transaction in flight commits, a query in
 * flight can still be canceled, then each client is closed with 57P01 — nothing is cut before the drain timeout.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(GracefulDrainTest.Drain.class)
class GracefulDrainTest {

    public static class Drain implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.shutdown.drain-timeout", "20s");
        }
    }

    @Inject
    ProxyServer server;

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ConfigProperty(name = "quarkus.http.test-port")
    int httpPort;

    Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", "secret");
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    /** FATAL 57P01 "terminating connection due to administrator command", as PostgreSQL's ProcessInterrupts sends it. */
    static void adminShutdown(Throwable e) {
        assertThat(e).isInstanceOf(PSQLException.class);
        ServerErrorMessage m = ((PSQLException) e).getServerErrorMessage();
        assertThat(m).as("an ErrorResponse: %s, caused by %s", e, e.getCause()).isNotNull();
        assertThat(m.getSeverity()).isEqualTo("FATAL");
        assertThat(m.getSQLState()).isEqualTo("57P01");
        assertThat(m.getMessage()).isEqualTo("terminating connection due to administrator command");
    }

    /** Waits until PostgreSQL runs the pg_sleep. */
    private static void awaitSleeping() throws Exception {
        try (Connection d = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres");
                Statement s = d.createStatement()) {
            for (int i = 0; i < 200; i++) {
                try (ResultSet rs = s.executeQuery("select count(*) from pg_stat_activity where state = 'active'"
                        + " and query = 'select pg_sleep(30)'")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(25);
            }
        }
        throw new AssertionError("the pg_sleep never ran");
    }

    @Test
    void transactionInFlightCommitsWhileNewConnectionsAreRefused() throws Exception {
        try (Connection d = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres");
                Statement s = d.createStatement()) {
            s.execute("drop table if exists drain_t");
            s.execute("create table drain_t (n int)");
        }
        Connection idle = connect();
        Connection a = connect();
        a.setAutoCommit(false);
        try (Statement s = a.createStatement()) {
            s.execute("insert into drain_t values (1)");
        }
        // backends pgferry holds when it stops: a's, leased for its transaction, and the one idle's query ran on,
        // back in the pool (a holds its own until COMMIT, so they differ)
        List<Integer> backendPids = List.of(backendPid(a), backendPid(idle));
        // a query running when the drain starts, canceled during it by pgjdbc (a CancelRequest on a new connection)
        Connection sleeper = connect();
        Statement sleep = sleeper.createStatement();
        CompletableFuture<Void> sleeping = CompletableFuture.runAsync(() -> {
            try {
                sleep.execute("select pg_sleep(30)");
            } catch (SQLException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        awaitSleeping();
        // accepted before the drain, its StartupMessage sent during it
        RawWireClient late = RawWireClient.connect("127.0.0.1", port).timeout(5000);
        long start = System.nanoTime();
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::stop);
        Thread.sleep(500);
        assertThat(stopping).isNotDone(); // waits for the open transaction
        try (late) {
            late.send(RawWireClient.startupMessage("user", "scram_u", "database", "postgres"));
            RawWireClient.Msg refused = late.read();
            assertThat((char) refused.type()).isEqualTo('E');
            assertThat(refused.field('S')).isEqualTo("FATAL");
            assertThat(refused.field('C')).as("PostgreSQL's answer to a login during its shutdown").isEqualTo("57P03");
            assertThat(refused.field('M')).isEqualTo("pgferry is shutting down");
            assertThat(late.read()).isEqualTo(RawWireClient.Msg.EOF);
        }

        // the listener stays open for cancels through the drain, as PostgreSQL's during its shutdown: a new client is
        // accepted and refused with 57P03, which drivers and poolers take as "try another server"
        assertThatThrownBy(this::connect).isInstanceOf(SQLException.class).satisfies(e ->
                assertThat(((SQLException) e).getSQLState()).isEqualTo("57P03"));
        long cancelAt = System.nanoTime();
        sleep.cancel();
        assertThatThrownBy(() -> sleeping.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(PSQLException.class)
                .satisfies(e -> assertThat(((PSQLException) e.getCause()).getSQLState()).isEqualTo("57014"));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelAt)).as("canceled during the drain")
                .isLessThan(2000);
        sleeper.close();
        // after the cancel: the first health request of the JVM can take seconds on a loaded machine
        RestAssured.given().port(httpPort).get("/q/health/ready").then().statusCode(503);
        // the idle client was told why it goes, in PostgreSQL's words for a fast shutdown
        assertThatThrownBy(() -> idle.createStatement().executeQuery("select 1")).satisfies(GracefulDrainTest::adminShutdown);

        try (Statement s = a.createStatement()) {
            s.execute("insert into drain_t values (2)");
        }
        a.commit();
        stopping.get(15, TimeUnit.SECONDS);
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(15);
        // once its transaction was through, the client in flight got the same FATAL. Read in autocommit: otherwise pgjdbc
        // flushes a BEGIN on its own first, pgferry's closed socket answers it with a reset, and pgjdbc's next write
        // fails (broken pipe) before it reads what pgferry sent.
        a.setAutoCommit(true);
        assertThatThrownBy(() -> a.createStatement().executeQuery("select 1")).satisfies(GracefulDrainTest::adminShutdown);
        a.close();
        idle.close();

        try (Connection d = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres");
                Statement s = d.createStatement(); ResultSet rs = s.executeQuery("select count(*) from drain_t")) {
            rs.next();
            assertThat(rs.getInt(1)).as("both inserts of the transaction in flight committed").isEqualTo(2);
        }
        // stopped, pgferry closes its backends itself (PgBouncer too): none is left to the event loops' shutdown, or
        // to the server noticing a vanished process, whatever the application does next
        try (Connection d = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres")) {
            List<Integer> left = backendPids;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (!(left = stillThere(d, backendPids)).isEmpty() && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertThat(left).as("pgferry's backends after stop, of %s", backendPids).isEmpty();
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static List<Integer> stillThere(Connection d, List<Integer> pids) throws SQLException {
        List<Integer> left = new java.util.ArrayList<>();
        for (int pid : pids) {
            try (Statement s = d.createStatement();
                    ResultSet rs = s.executeQuery("select count(*) from pg_stat_activity where pid = " + pid)) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    left.add(pid);
                }
            }
        }
        return left;
    }
}
