package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Cancel, clients that vanish, backends that die — default configuration, pool {@code postgres/scram_u}. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class FailureHandlingTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "scram_u";
    static final String DB = "postgres";
    final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeEach
    void table() throws SQLException {
        Clients.directExec(DB, "drop table if exists pooling_locks", "create table pooling_locks (id int primary key, v int)",
                "insert into pooling_locks values (1, 0)", "grant all on pooling_locks to public");
    }

    @org.junit.jupiter.api.AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private CompletableFuture<String> async(java.util.concurrent.Callable<String> task) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return task.call();
            } catch (SQLException e) {
                return "SQLSTATE " + e.getSQLState() + ": " + e.getMessage();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, threads);
    }

    @Test
    @Timeout(60)
    void statementCancelStopsPgSleepWithin1sAndLeavesOtherClientsAlone() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB); Connection b = Clients.proxy(port, USER, DB);
                Connection direct = Clients.direct(DB); Statement sleeping = a.createStatement()) {
            CompletableFuture<String> cancelled = async(() -> {
                try (var rs = sleeping.executeQuery("select pg_sleep(10)")) {
                    return "finished";
                }
            });
            CompletableFuture<String> bystander = async(() -> one(b, "select 'bystander ' || pg_sleep(1.5)"));
            Clients.awaitActive(direct, USER, "select pg_sleep(10)");
            Clients.awaitActive(direct, USER, "select 'bystander ");
            long t0 = System.nanoTime();
            sleeping.cancel(); // a CancelRequest with the key pgferry gave this connection
            String result = cancelled.get(5, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(result).startsWith("SQLSTATE 57014");
            assertThat(seconds).as("seconds from cancel to error").isLessThan(1.0);
            assertThat(bystander.get(5, TimeUnit.SECONDS)).isEqualTo("bystander ");
            assertThat(one(a, "select 'a works'")).isEqualTo("a works");
        }
    }

    @Test
    @Timeout(60)
    void cancelOfAClientHoldingNoBackendDoesNothing() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB); Connection b = Clients.proxy(port, USER, DB);
                Connection direct = Clients.direct(DB)) {
            CompletableFuture<String> other = async(() -> one(b, "select 'other ' || pg_sleep(1)"));
            Clients.awaitActive(direct, USER, "select 'other '");
            // A holds no backend: its CancelRequest (sent unconditionally) must cancel nothing, certainly not B's query
            a.unwrap(org.postgresql.core.BaseConnection.class).cancelQuery();
            assertThat(other.get(5, TimeUnit.SECONDS)).isEqualTo("other ");
            assertThat(one(a, "select 'a works'")).isEqualTo("a works");
        }
    }

    private void assertLockReleasedWithin1s(Runnable kill) throws Exception {
        try (Connection direct = Clients.direct(DB); Connection b = Clients.proxy(port, USER, DB)) {
            CompletableFuture<String> update = async(() -> {
                try (Statement st = b.createStatement()) {
                    return "updated " + st.executeUpdate("update pooling_locks set v = v + 10 where id = 1");
                }
            });
            Clients.awaitActive(direct, USER, "update pooling_locks set v = v + 10");
            assertThat(update).isNotDone();
            long t0 = System.nanoTime();
            kill.run();
            assertThat(update.get(5, TimeUnit.SECONDS)).isEqualTo("updated 1");
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds until the lock was released").isLessThan(1.0);
            assertThat(one(direct, "select v from pooling_locks where id = 1"))
                    .as("the vanished client's update was rolled back").isEqualTo("10");
        }
    }

    @Test
    @Timeout(60)
    void clientAbortedInsideTransactionReleasesItsRowLock() throws Exception {
        Connection a = Clients.proxy(port, USER, DB);
        a.setAutoCommit(false);
        try (Statement st = a.createStatement()) {
            st.executeUpdate("update pooling_locks set v = 1 where id = 1");
        }
        assertLockReleasedWithin1s(() -> {
            try {
                a.abort(Runnable::run); // closes the socket, no Terminate
            } catch (SQLException e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    @Timeout(60)
    void clientConnectionResetInsideTransactionReleasesItsRowLock() throws Exception {
        try (ResettingProxy proxy = new ResettingProxy(Clients.HOST, port)) {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", USER);
            p.setProperty("password", Clients.PASSWORDS.get(USER));
            Connection a = new org.postgresql.Driver().connect(
                    "jdbc:postgresql://" + Clients.HOST + ":" + proxy.port() + "/" + DB, p);
            a.setAutoCommit(false);
            try (Statement st = a.createStatement()) {
                st.executeUpdate("update pooling_locks set v = 1 where id = 1");
            }
            assertLockReleasedWithin1s(proxy::resetAll);
            try {
                a.abort(Runnable::run);
            } catch (SQLException ignored) {
                // already cut
            }
        }
    }

    @Test
    @Timeout(60)
    void terminatedBackendFailsOnlyItsClientAndThePoolRefills() throws Exception {
        try (Connection victim = Clients.proxy(port, USER, DB); Connection bystander = Clients.proxy(port, USER, DB);
                Connection idle = Clients.proxy(port, USER, DB); Connection direct = Clients.direct(DB)) {
            victim.setAutoCommit(false);
            bystander.setAutoCommit(false);
            String pid = one(victim, "select pg_backend_pid()");
            try (Statement st = bystander.createStatement()) {
                st.executeUpdate("update pooling_locks set v = 5 where id = 1");
            }
            assertThat(one(bystander, "select pg_backend_pid()")).isNotEqualTo(pid);
            assertThat(one(direct, "select pg_terminate_backend(" + pid + ")")).isEqualTo("t");
            assertThatThrownBy(() -> one(victim, "select 1")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(Clients.sqlState(e)).isIn("08006", "57P01"));
            bystander.commit();
            assertThat(one(direct, "select v from pooling_locks where id = 1")).isEqualTo("5");
            assertThat(one(idle, "select 'idle client unaffected'")).isEqualTo("idle client unaffected");
            // the pool refills: 20 transactions at once, each on its own backend
            List<Connection> many = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    Connection c = Clients.proxy(port, USER, DB);
                    many.add(c);
                    c.setAutoCommit(false);
                    assertThat(one(c, "select pg_backend_pid()")).isNotEqualTo(pid);
                }
                for (Connection c : many) {
                    c.commit();
                }
            } finally {
                for (Connection c : many) {
                    c.close();
                }
            }
            assertThat(Clients.serverBackends(direct, USER, DB)).isBetween(1, 20);
        }
    }

    @Test
    @Timeout(60)
    void idleBackendsKilledOnTheServerAreReplacedUnnoticed() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB); Connection direct = Clients.direct(DB)) {
            one(a, "select 1");
            assertThat(one(direct, "select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = '"
                    + USER + "'")).isNotEqualTo("0");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (Clients.serverBackends(direct, USER, DB) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(200);
            assertThat(one(a, "select 'served by a new backend'")).isEqualTo("served by a new backend");
        }
    }

    /** A TCP relay to pgferry whose pgferry-side sockets can be cut with a RST (SO_LINGER 0) at will. */
    static final class ResettingProxy implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> upstream = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final List<Socket> all = new java.util.concurrent.CopyOnWriteArrayList<>();

        ResettingProxy(String host, int port) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket down = server.accept();
                        Socket up = new Socket(host, port);
                        upstream.add(up);
                        all.add(down);
                        all.add(up);
                        pump(down, up);
                        pump(up, down);
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "resetting-proxy");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private static void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // one side went away
                }
            }, "resetting-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        /** Sends a TCP RST to pgferry on every relayed connection. */
        void resetAll() {
            for (Socket s : upstream) {
                try {
                    s.setSoLinger(true, 0);
                    s.close();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : all) {
                s.close();
            }
        }
    }
}
