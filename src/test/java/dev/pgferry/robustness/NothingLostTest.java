package dev.pgferry.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.devservice.LocalPostgres;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * pgbench tpcb-like through pgferry while every backend of its database is terminated once a second: every
 * transaction pgbench counted as committed is in pgbench_history, and the balances add up.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(HostileProfile.class)
class NothingLostTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String DB = "robust_bench";
    static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    static final long RUN_SECONDS = 15;

    static String run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", PostgresFixture.SUPERUSER.password());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + command);
        }
        return out;
    }

    /** One line per client pgbench aborted (its connection broke). */
    private static final java.util.regex.Pattern ABORTED = java.util.regex.Pattern.compile("client \\d+ (script \\d+ )?aborted");

    @Test
    void pgbenchWithBackendKillsLosesNoCommittedTransaction() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        LocalPostgres local = pg.local();
        local.psql("drop database if exists " + DB + " with (force)");
        local.psql("create database " + DB);
        String init = run(List.of("pgbench", "-i", "-q", "-s", "1", "-h", pg.host(), "-p",
                Integer.toString(pg.port()), "-U", "postgres", DB));
        assertThat(local.psql(DB, "select count(*) from pgbench_accounts").strip()).as(init).isEqualTo("100000");

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger killed = new AtomicInteger();
        Thread killer = new Thread(() -> {
            while (!stop.get()) {
                try {
                    Thread.sleep(1000);
                    String n = local.psql("select count(pg_terminate_backend(pid)) from pg_stat_activity"
                            + " where datname = '" + DB + "' and pid <> pg_backend_pid()");
                    killed.addAndGet(Integer.parseInt(n.strip()));
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // psql hiccup under load: try again next second
                }
            }
        }, "backend-killer");
        killer.setDaemon(true);

        long committed = 0;
        List<String> outputs = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RUN_SECONDS);
        killer.start();
        try {
            // pgbench aborts a client whose connection breaks; start a new run until the time is up
            int round = 0;
            while (System.nanoTime() < deadline) {
                long left = Math.max(2, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime()));
                String mode = round++ % 2 == 0 ? "simple" : "prepared";
                String out = run(List.of("pgbench", "-n", "-c", "8", "-j", "2", "-T", Long.toString(left), "-M", mode,
                        "--failures-detailed", "-h", Clients.HOST, "-p", Integer.toString(port), "-U",
                        "postgres", DB));
                Matcher m = PROCESSED.matcher(out);
                long n = m.find() ? Long.parseLong(m.group(1)) : 0;
                committed += n;
                outputs.add("--- round " + round + " (" + mode + "): " + n + " committed\n" + out);
            }
        } finally {
            // no interrupt: it could leave a psql running that then kills the verification connection below
            stop.set(true);
            killer.join(120_000);
        }
        String report = String.join("\n", outputs);
        long history;
        long accounts;
        long deltas;
        long tellers;
        long branches;
        try (Connection c = pg.connect(PostgresFixture.SUPERUSER, DB); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select (select count(*) from pgbench_history),"
                        + " (select coalesce(sum(abalance), 0) from pgbench_accounts),"
                        + " (select coalesce(sum(delta), 0) from pgbench_history),"
                        + " (select coalesce(sum(tbalance), 0) from pgbench_tellers),"
                        + " (select coalesce(sum(bbalance), 0) from pgbench_branches)")) {
            rs.next();
            history = rs.getLong(1);
            accounts = rs.getLong(2);
            deltas = rs.getLong(3);
            tellers = rs.getLong(4);
            branches = rs.getLong(5);
        }
        System.out.printf("nothing-lost: %d committed by pgbench, %d in history, %d backends killed, %d rounds%n",
                committed, history, killed.get(), outputs.size());
        assertThat(killed.get()).as("backends killed").isPositive();
        assertThat(committed).as(report).isPositive();
        // Every transaction pgbench counted as committed is in the history. A backend killed after its COMMIT
        // but before the client read the answer leaves a committed transaction its client counts as aborted
        // (PostgreSQL itself behaves so, with or without a pooler): at most one such per aborted client.
        long abortedClients = ABORTED.matcher(report).results().count();
        assertThat(history).as("rows in pgbench_history vs transactions pgbench counted\n%s", report)
                .isGreaterThanOrEqualTo(committed);
        assertThat(history - committed).as("committed transactions pgbench did not count, vs aborted clients\n%s",
                report).isLessThanOrEqualTo(abortedClients);
        assertThat(accounts).as("sum(abalance) vs sum(delta)").isEqualTo(deltas);
        assertThat(tellers).isEqualTo(deltas);
        assertThat(branches).isEqualTo(deltas);
        // and pgferry still serves the database
        try (Connection c = Clients.jdbc(port, DB); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(*) from pgbench_branches")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }
}
