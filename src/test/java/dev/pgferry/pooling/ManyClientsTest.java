package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Default configuration (transaction pooling, pool size 20): hundreds of clients, never more than 20 server
 * sessions per (database, user), as the server itself counts them.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class ManyClientsTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final int POOL_SIZE = 20;
    static final int CLIENTS = 500;

    /** Samples pg_stat_activity for one (user, database) until stopped; remembers the maximum. */
    static final class BackendCounter implements AutoCloseable {
        final AtomicInteger max = new AtomicInteger();
        final AtomicInteger samples = new AtomicInteger();
        final AtomicBoolean stop = new AtomicBoolean();
        final CountDownLatch done = new CountDownLatch(1);
        volatile Exception error;

        BackendCounter(String user, String database) {
            Thread t = new Thread(() -> {
                try (Connection d = Clients.direct("postgres")) {
                    while (!stop.get()) {
                        max.accumulateAndGet(Clients.serverBackends(d, user, database), Math::max);
                        samples.incrementAndGet();
                        Thread.sleep(5);
                    }
                } catch (Exception e) {
                    error = e;
                } finally {
                    done.countDown();
                }
            }, "pg_stat_activity-sampler");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            done.await(10, TimeUnit.SECONDS);
            if (error != null) {
                throw error;
            }
        }
    }

    @Test
    @Timeout(180)
    void fiveHundredConcurrentClientsAllSucceedOnAtMostTwentyBackends() throws Exception {
        String user = "md5_u";
        String db = "postgres";
        int txPerClient = 10;
        Clients.directExec(db, "drop table if exists pooling_many",
                "create table pooling_many (client int, n int, primary key (client, n))",
                "grant all on pooling_many to public");
        ExecutorService threads = Executors.newFixedThreadPool(CLIENTS);
        CyclicBarrier allConnected = new CyclicBarrier(CLIENTS);
        try (BackendCounter counter = new BackendCounter(user, db)) {
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int id = i;
                results.add(threads.submit(() -> {
                    try (Connection c = Clients.proxy(port, user, db)) {
                        allConnected.await(120, TimeUnit.SECONDS); // every client connected before anyone works
                        c.setAutoCommit(false);
                        try (PreparedStatement ins = c.prepareStatement("insert into pooling_many values (?, ?)");
                                PreparedStatement sel = c.prepareStatement(
                                        "select count(*) from pooling_many where client = ?")) {
                            for (int n = 0; n < txPerClient; n++) {
                                ins.setInt(1, id);
                                ins.setInt(2, n);
                                ins.executeUpdate();
                                sel.setInt(1, id);
                                try (var rs = sel.executeQuery()) {
                                    rs.next();
                                    if (rs.getInt(1) != n + 1) {
                                        throw new AssertionError("client " + id + " sees " + rs.getInt(1) + " rows");
                                    }
                                }
                                c.commit();
                            }
                        }
                    }
                    return null;
                }));
            }
            List<String> failures = new ArrayList<>();
            for (Future<?> f : results) {
                try {
                    f.get(170, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    StringBuilder chain = new StringBuilder();
                    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                        chain.append(chain.length() == 0 ? "" : " <- ").append(t);
                    }
                    failures.add(chain.toString());
                }
            }
            assertThat(failures).as("failed clients").isEmpty();
            counter.close();
            assertThat(counter.samples.get()).as("pg_stat_activity samples").isGreaterThan(10);
            assertThat(counter.max.get()).as("server sessions of %s/%s at most", user, db).isBetween(1, POOL_SIZE);
        } finally {
            threads.shutdownNow();
        }
        try (Connection d = Clients.direct(db)) {
            assertThat(Clients.count(d, "select count(*) from pooling_many")).isEqualTo((long) CLIENTS * txPerClient);
        }
    }

    @Test
    @Timeout(180)
    void pgbenchWithFiveHundredClientsHasNoFailedTransactions() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        String user = "plain_u";
        String db = "bench";
        try (Connection d = Clients.direct(db)) {
            if (Clients.one(d, "select to_regclass('pgbench_accounts') is null").equals("t")) {
                run(List.of("pgbench", "-i", "-q", "-s", "1", "-h", pg.host(), "-p", Integer.toString(pg.port()), "-U",
                        "postgres", db), "secret", 300);
            }
            try (var st = d.createStatement()) {
                st.execute("grant all on all tables in schema public to public");
            }
        }
        String out;
        try (BackendCounter counter = new BackendCounter(user, db)) {
            out = run(List.of("pgbench", "-n", "-S", "-c", Integer.toString(CLIENTS), "-j", "8", "-T", "5", "-h",
                    Clients.HOST, "-p", Integer.toString(port), "-U", user, db), Clients.PASSWORDS.get(user), 120);
            counter.close();
            assertThat(counter.max.get()).as("server sessions of %s/%s at most", user, db).isBetween(1, POOL_SIZE);
        }
        assertThat(out).contains("number of clients: " + CLIENTS);
        Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
        assertThat(failed.find()).as("pgbench output:\n%s", out).isTrue();
        assertThat(failed.group(1)).as("failed transactions; pgbench output:\n%s", out).isEqualTo("0");
        Matcher done = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(out);
        assertThat(done.find()).isTrue();
        assertThat(Long.parseLong(done.group(1))).isGreaterThan(CLIENTS);
    }

    /** Runs a command with PGPASSWORD; returns stdout and stderr; fails on a non-zero exit. */
    static String run(List<String> command, String password, int timeoutSeconds) throws Exception {
        Path log = Files.createTempFile("pooling-pgbench", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("PGPASSWORD", password);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " still running after " + timeoutSeconds + " s:\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as("exit status of %s; output:\n%s", command, out).isZero();
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
