package dev.pgferry.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.server.ProxyServer;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.RawWireClient.Msg;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Faults between pgferry and PostgreSQL, injected by a {@link FaultProxy}: what each client gets, and recovery. */
@QuarkusTest
@WithTestResource(FaultProxyResource.class)
class BackendFaultsTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static FaultProxy proxy;

    @Inject
    ProxyServer server;

    @BeforeAll
    static void startProxy() throws Exception {
        proxy = FaultProxy.inFrontOfFixture();
    }

    @AfterAll
    static void stopProxy() throws Exception {
        FaultProxy.stop(proxy);
    }

    @AfterEach
    void heal() throws Exception {
        if (proxy == null) {
            return;
        }
        proxy.accept();
        proxy.latencyForUser("scram_u", 0);
    }

    static int intOf(Msg dataRow) {
        // DataRow: int16 columns, int32 length, text
        byte[] b = dataRow.body();
        int len = ((b[2] & 0xff) << 24) | ((b[3] & 0xff) << 16) | ((b[4] & 0xff) << 8) | (b[5] & 0xff);
        return Integer.parseInt(new String(b, 6, len, StandardCharsets.US_ASCII));
    }

    static int scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * What pgferry sends a client whose query finds the server's port refusing TCP: ERROR (not FATAL: the client stays
     * connected and can retry) 08006 "could not connect to server host:port: " and the transport's own words, which
     * name the address again and differ between epoll and NIO and between connect and finishConnect (epoll here:
     * "finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:port").
     */
    static void assertConnectRefused(Throwable e) {
        assertThat(e).isInstanceOf(PSQLException.class);
        ServerErrorMessage m = ((PSQLException) e).getServerErrorMessage();
        assertThat(m).as("an ErrorResponse from pgferry: %s", e).isNotNull();
        assertThat(m.getSeverity()).as("%s", e).isEqualTo("ERROR");
        assertThat(m.getSQLState()).isEqualTo("08006");
        assertThat(m.getMessage()).startsWith("could not connect to server 127.0.0.1:" + proxy.port() + ": ")
                .contains("Connection refused");
    }

    @Test
    void backendResetMidTransactionFailsOnlyThatClientWith08006AndThePoolHeals() throws Exception {
        Pool pool = server.pools().get(new PoolKey("postgres", "postgres"));
        try (RawWireClient victim = Clients.login(port, "postgres"); Connection bystander = Clients.jdbc(port, "postgres");
                Connection idle = Clients.jdbc(port, "postgres")) {
            victim.timeout(5000);
            // another client in a transaction of its own, on another backend
            bystander.setAutoCommit(false);
            int bystanderPid = scalar(bystander, "select pg_backend_pid()");
            scalar(idle, "select 1");

            victim.send(RawWireClient.query("begin; select pg_backend_pid()"));
            List<Msg> reply = victim.readUntilReady();
            Msg row = reply.stream().filter(m -> m.type() == 'D').findFirst().orElseThrow();
            int pid = intOf(row);
            assertThat(pid).isNotEqualTo(bystanderPid);
            assertThat(reply.get(reply.size() - 1).body()[0]).as("in a transaction").isEqualTo((byte) 'T');

            assertThat(proxy.resetPid(pid)).as("the victim's backend passes through the proxy").isTrue();

            // the victim is told, with 08006, and closed
            Msg m = victim.read();
            assertThat(m.type()).as("%s", m).isEqualTo('E');
            assertThat(m.field('C')).isEqualTo("08006");
            assertThat(victim.read()).isEqualTo(Msg.EOF);

            // nobody else notices
            assertThat(scalar(bystander, "select pg_backend_pid()")).isEqualTo(bystanderPid);
            bystander.commit();
            assertThat(scalar(idle, "select 2")).isEqualTo(2);
            long t0 = System.nanoTime();
            try (Connection fresh = Clients.jdbc(port, "postgres")) {
                fresh.setAutoCommit(false);
                assertThat(scalar(fresh, "select 3")).isEqualTo(3);
                fresh.commit();
            }
            assertThat((System.nanoTime() - t0) / 1e9).as("a new client's transaction").isLessThan(1.0);
            assertThat(pool.growth().total()).as("pool size after the fault").isLessThanOrEqualTo(3);
        }
    }

    @Test
    void postgresRestartedUnderLoadThenNewTransactionsSucceedWithinTwoSeconds() throws Exception {
        int threads = 4;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong restartedAt = new AtomicLong(Long.MAX_VALUE);
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger okBefore = new AtomicInteger();
        ConcurrentLinkedQueue<Long> firstOkAfter = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> states = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            fs.add(pool.submit(() -> {
                Connection c = null;
                boolean recovered = false;
                while (!stop.get()) {
                    try {
                        if (c == null) {
                            c = Clients.jdbc(port, "postgres");
                            c.setAutoCommit(false);
                        }
                        scalar(c, "select count(*) from pg_class");
                        c.commit();
                        long now = System.nanoTime();
                        if (now > restartedAt.get()) {
                            if (!recovered) {
                                recovered = true;
                                firstOkAfter.add(now - restartedAt.get());
                            }
                        } else {
                            okBefore.incrementAndGet();
                        }
                    } catch (SQLException e) {
                        errors.incrementAndGet();
                        states.add(String.valueOf(e.getSQLState()));
                        try {
                            if (c != null) {
                                c.close();
                            }
                        } catch (SQLException ignored) {
                            // broken anyway
                        }
                        c = null;
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException ie) {
                            return null;
                        }
                    }
                }
                if (c != null) {
                    c.close();
                }
                return null;
            }));
        }
        try {
            Thread.sleep(1000);
            PostgresFixture.get().local().restart();
            restartedAt.set(System.nanoTime());
            long t0 = System.nanoTime();
            // a brand-new client: its first transaction must work within 2 s of the server being back
            while (true) {
                try (Connection c = Clients.jdbc(port, "postgres")) {
                    c.setAutoCommit(false);
                    assertThat(scalar(c, "select 1")).isEqualTo(1);
                    c.commit();
                    break;
                } catch (SQLException e) {
                    if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(2)) {
                        throw new AssertionError("no transaction within 2 s after the restart", e);
                    }
                    Thread.sleep(50);
                }
            }
            Thread.sleep(2500);
        } finally {
            stop.set(true);
            for (Future<?> f : fs) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
        assertThat(okBefore.get()).as("transactions before the restart").isPositive();
        assertThat(errors.get()).as("errors seen during the restart (SQLSTATEs %s)", states).isPositive();
        assertThat(states).as("errors are connection errors or admin shutdown")
                .allMatch(s -> s.startsWith("08") || s.equals("57P01") || s.equals("57P03") || s.equals("53300"));
        assertThat(firstOkAfter).as("every load thread recovered").hasSize(threads);
        assertThat(firstOkAfter).allMatch(n -> n < TimeUnit.SECONDS.toNanos(2));
    }

    @Test
    void unreachablePostgresGivesAClearErrorWithinQueryWaitTimeoutThenWorksAgain() throws Exception {
        try (Connection c = Clients.jdbc(port, "postgres")) {
            assertThat(scalar(c, "select 1")).isEqualTo(1);
            proxy.refuse();
            // Let pgferry notice that its idle backend was reset. Otherwise it may still lease it: the query then
            // reaches a dead backend and the client gets FATAL 08006 and is closed (a separate race, see
            // docs/robustness.md), and this test is about the outage answer and the same client recovering.
            Pool pool = server.pools().get(new PoolKey("postgres", "postgres"));
            long settle = System.nanoTime() + 2_000_000_000L;
            while ((pool.stats().counts().idle() > 0 || pool.stats().counts().connecting() > 0) && System.nanoTime() < settle) {
                Thread.sleep(10);
            }
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> scalar(c, "select 1")).satisfies(BackendFaultsTest::assertConnectRefused);
            double secs = (System.nanoTime() - t0) / 1e9;
            assertThat(secs).as("error within query-wait-timeout").isLessThan(FaultProxyResource.QUERY_WAIT_SECONDS + 0.5);
            // a client logging in during the outage is let in (pgferry knows the server's parameters), and its first
            // query gets the same answer: pgjdbc's own, the SET application_name it sends inside connect()
            assertThatThrownBy(() -> Clients.jdbc(port, "postgres").close())
                    .satisfies(BackendFaultsTest::assertConnectRefused);
            proxy.accept();
            long t1 = System.nanoTime();
            assertThat(scalar(c, "select 2")).as("the same client, once PostgreSQL is back").isEqualTo(2);
            assertThat((System.nanoTime() - t1) / 1e9).isLessThan(2.0);
        }
    }

    @Test
    void aSlowBackendForOnePoolDoesNotBlockAnotherPool() throws Exception {
        // warm both pools, so the slow one does not also pay for its startup
        try (Connection s = Clients.jdbc(port, "scram_u", "scram_pw", "postgres"); Connection p = Clients.jdbc(port, "postgres")) {
            scalar(s, "select 1");
            scalar(p, "select 1");
        }
        // 5 s per reply for scram_u; "not blocked" means far below that. The bound on the other pool is 1 s, not tighter:
        // this 2-core machine runs several builds at once (load average 15) and a 250 ms bound flaked at 759 ms.
        proxy.latencyForUser("scram_u", 5000);
        ExecutorService slow = Executors.newFixedThreadPool(4);
        List<Future<Integer>> slowRuns = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < 4; i++) {
            slowRuns.add(slow.submit(() -> {
                try (Connection s = Clients.jdbc(port, "scram_u", "scram_pw", "postgres")) {
                    return scalar(s, "select 7");
                }
            }));
        }
        try {
            Thread.sleep(300); // the slow queries are in flight
            long worst = 0;
            List<Long> times = new ArrayList<>();
            try (Connection p = Clients.jdbc(port, "postgres")) {
                for (int i = 0; i < 20; i++) {
                    long q = System.nanoTime();
                    assertThat(scalar(p, "select " + i)).isEqualTo(i);
                    long took = System.nanoTime() - q;
                    times.add(took / 1_000_000);
                    worst = Math.max(worst, took);
                }
            }
            try (Connection fresh = Clients.jdbc(port, "postgres")) {
                assertThat(scalar(fresh, "select 1")).isEqualTo(1);
            }
            long fastDone = System.nanoTime() - t0;
            assertThat(worst / 1e6).as("worst query time of the other pool, ms (each: %s)", times).isLessThan(1000);
            assertThat(fastDone / 1e9).as("all of it before the slow pool answered").isLessThan(5.0);
            for (Future<Integer> f : slowRuns) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(7);
            }
            assertThat((System.nanoTime() - t0) / 1e9).as("the slow pool was really slow").isGreaterThan(5.0);
        } finally {
            slow.shutdownNow();
        }
    }
}
