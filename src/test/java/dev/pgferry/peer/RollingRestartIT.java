package dev.pgferry.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.cli.PackagedJar;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresFixture;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A rolling update of three peered pgferry processes (the packaged jar) behind a round-robin balancer, as a StatefulSet
 * behind its Service, while pgbench writes through the balancer with a new connection per transaction (-C, as clients
 * of a Kubernetes Service reconnect). Each replica in turn is taken out of the balancer (its endpoint goes, then the
 * preStop sleep), stopped with SIGTERM while transactions run on it, started again, and put back once ready. Every
 * transaction pgbench saw committed is in the table, no client gets an error, and the backends of the bench database
 * never exceed the cluster budget. pgbench's tpcb-like workload, run through the same rollout, leaves the books
 * balanced.
 */
class RollingRestartIT {
    private static final int REPLICAS = 3;
    private static final int BUDGET = 12;
    private static final int CLIENTS = 24;
    /** Long enough for the rollout (~50 s on a loaded 2-core machine) and the drain of 0.3 s transactions. */
    private static final int SECONDS = 70;
    /** The preStop sleep: shorter than a transaction, so that some are in flight at SIGTERM. */
    private static final long PRE_STOP_MILLIS = 300;
    private static final String HOST = "127.0.0.1";
    private static PostgresFixture pg;
    private static RoundRobinBalancer balancer;
    private static final int[] ports = new int[REPLICAS + 1];
    private static final int[] httpPorts = new int[REPLICAS + 1];
    private static final PackagedJar.Running[] jars = new PackagedJar.Running[REPLICAS + 1];

    @BeforeAll
    static void startReplicas() throws Exception {
        PackagedJar.jar();
        pg = PostgresFixture.get();
        assumeTrue(pg.isLocal(), "pgbench needs the local cluster's tools");
        try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "bench"); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS rolling_tx");
            st.execute("CREATE TABLE rolling_tx (id bigserial PRIMARY KEY, client int NOT NULL)");
            st.execute("GRANT ALL ON rolling_tx TO PUBLIC");
            st.execute("GRANT ALL ON SEQUENCE rolling_tx_id_seq TO PUBLIC");
        }
        for (int id = 1; id <= REPLICAS; id++) {
            ports[id] = PackagedJar.freePort();
            httpPorts[id] = PackagedJar.freePort();
        }
        balancer = new RoundRobinBalancer();
        for (int id = 1; id <= REPLICAS; id++) {
            start(id);
        }
        for (int id = 1; id <= REPLICAS; id++) {
            awaitReady(id);
            balancer.add(endpoint(id));
        }
    }

    @AfterAll
    static void stopReplicas() throws Exception {
        for (PackagedJar.Running j : jars) {
            if (j != null) {
                j.close();
            }
        }
        if (balancer != null) {
            balancer.close();
        }
    }

    private static InetSocketAddress endpoint(int id) {
        return new InetSocketAddress(HOST, ports[id]);
    }

    private static void start(int id) throws Exception {
        List<String> o = PackagedJar.options("-Dpgferry.listen-host=" + HOST, "-Dpgferry.listen-port=" + ports[id],
                "-Dpgferry.backend.host=" + pg.host(), "-Dpgferry.backend.port=" + pg.port(),
                "-Dpgferry.auth.users-file=" + pg.usersFile(), "-Dpgferry.peer-id=" + id,
                "-Dpgferry.peer-probe-interval=500ms", "-Dpgferry.pool.cluster-max-db-connections=" + BUDGET,
                "-Dpgferry.pool.size=40", "-Dpgferry.shutdown.drain-timeout=20s");
        for (int peer = 1; peer <= REPLICAS; peer++) {
            o.add("-Dpgferry.peers.\"" + peer + "\".host=" + HOST);
            o.add("-Dpgferry.peers.\"" + peer + "\".port=" + ports[peer]);
        }
        o.add("-Dquarkus.http.port=" + httpPorts[id]);
        jars[id] = PackagedJar.start(o, List.of(), "");
    }

    /** Waits for the replica's readiness, as the Service's endpoints do before they send it clients. */
    private static void awaitReady(int id) throws Exception {
        jars[id].await(l -> l.contains("started in"), Duration.ofSeconds(120));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!ReplicaMetrics.ready(httpPorts[id])) {
            assertThat(System.nanoTime()).as("replica %d never ready", id).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /**
     * Two workloads at once through one rollout, half the clients each: a transaction of ~0.3 s that inserts a row
     * (longer than the preStop sleep, so that SIGTERM finds some in flight; every transaction pgbench saw committed
     * is in the table, and no other), and pgbench's built-in TPC-B-like transaction (three UPDATEs, a SELECT, an
     * INSERT into the history), short, so that the rollout meets clients between transactions as much as inside one;
     * every committed one moved the same delta in accounts, tellers and branches and left one history row.
     */
    @Test
    void aRollingRestartUnderPgbenchLosesNothingAndKeepsTheBooksBalanced() throws Exception {
        ClientProgram.Result init = ClientProgram.run(List.of("pgbench", "-i", "-s", "1", "-q", "-h", pg.host(), "-p",
                Integer.toString(pg.port()), "-U", PostgresFixture.SUPERUSER.name(), "bench"),
                PostgresFixture.SUPERUSER.password(), Map.of(), 120);
        assertThat(init.exitCode()).as("pgbench -i: %s", init.stderr()).isZero();
        Path script = Files.createTempFile("pgferry-rolling", ".sql");
        Files.writeString(script, "BEGIN;\nINSERT INTO rolling_tx (client) VALUES (:client_id);\n"
                + "SELECT pg_sleep(0.3);\nCOMMIT;\n");
        try {
            List<Rollout> both = rollUnder(List.of(List.of("-f", script.toString()), List.of("-b", "tpcb-like")),
                    SECONDS);
            Rollout inserts = both.get(0);
            Rollout tpcb = both.get(1);
            long rows;
            long accounts;
            long tellers;
            long branches;
            long deltas;
            long history;
            try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "bench"); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM rolling_tx")) {
                    rs.next();
                    rows = rs.getLong(1);
                }
                try (ResultSet rs = st.executeQuery("SELECT (SELECT sum(abalance) FROM pgbench_accounts),"
                        + " (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches),"
                        + " (SELECT coalesce(sum(delta), 0) FROM pgbench_history),"
                        + " (SELECT count(*) FROM pgbench_history)")) {
                    rs.next();
                    accounts = rs.getLong(1);
                    tellers = rs.getLong(2);
                    branches = rs.getLong(3);
                    deltas = rs.getLong(4);
                    history = rs.getLong(5);
                }
            }
            System.out.printf("RollingRestartIT: insert: %s; rows %d%n", inserts.summary(), rows);
            System.out.printf("RollingRestartIT: tpcb-like: %s; books: accounts %d, tellers %d, branches %d, history"
                    + " deltas %d in %d rows%n", tpcb.summary(), accounts, tellers, branches, deltas, history);
            inserts.assertNoClientFailedAndBudgetHeld();
            tpcb.assertNoClientFailedAndBudgetHeld();
            assertThat(rows).as("every transaction pgbench saw committed is there, and no other")
                    .isEqualTo(inserts.processed());
            assertThat(tpcb.processed()).as("pgbench committed transactions").isPositive();
            assertThat(List.of(tellers, branches, deltas)).as("the books balance against accounts %d", accounts)
                    .containsOnly(accounts);
            assertThat(history).as("one history row per transaction pgbench saw committed, and no other")
                    .isEqualTo(tpcb.processed());
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** What a rollout under pgbench left: pgbench's output, and what the test saw meanwhile. */
    private record Rollout(ClientProgram.Result bench, int clients, long rolledSeconds, int mostBackends,
            long unrouted) {
        long processed() {
            return number(bench.stdout(), "number of transactions actually processed: (\\d+)");
        }

        long failed() {
            return number(bench.stdout(), "number of failed transactions: (\\d+)");
        }

        /** Clients told 57P01 by a draining replica after their COMMIT's ReadyForQuery, which libpq prints. */
        long told() {
            return bench.stderr().lines()
                    .filter(l -> l.contains("terminating connection due to administrator command")).count();
        }

        String summary() {
            return String.format("rollout of %d replicas in %d s; pgbench %d clients -C: %d committed, %d failed, %d"
                    + " told 57P01 after their COMMIT; backends at most %d of a budget of %d; balancer unrouted %d",
                    REPLICAS, rolledSeconds, clients, processed(), failed(), told(), mostBackends, BUDGET, unrouted);
        }

        void assertNoClientFailedAndBudgetHeld() {
            assertThat(bench.exitCode()).as("pgbench: %s %s", bench.stdout(), bench.stderr()).isZero();
            // a client at rest on a draining replica is told 57P01 as it goes; libpq prints it when it comes with
            // the ReadyForQuery of the COMMIT. Inside a transaction it would abort the client: pgbench says so,
            // exits 2
            assertThat(bench.stderr()).doesNotContain("aborted").doesNotContain("ERROR");
            assertThat(failed()).isZero();
            assertThat(mostBackends).as("backends of the bench database").isLessThanOrEqualTo(BUDGET);
            assertThat(unrouted).isZero();
        }
    }

    /**
     * Runs one pgbench per workload through the balancer for {@code seconds}, the clients shared out among them, with
     * a new connection per transaction, and meanwhile rolls the replicas: each leaves the balancer, gets SIGTERM after
     * the preStop sleep, drains and exits, starts again and rejoins once ready. Samples the bench database's backends
     * every 50 ms.
     */
    private static List<Rollout> rollUnder(List<List<String>> workloads, int seconds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workloads.size() + 1);
        List<String> figures = new ArrayList<>();
        long unroutedBefore = balancer.unrouted.get();
        ServerActivity.BenchBackends backends = new ServerActivity.BenchBackends(pg, pool);
        int clients = CLIENTS / workloads.size();
        try {
            long t0 = System.nanoTime();
            List<Future<ClientProgram.Result>> benches = new ArrayList<>();
            for (List<String> workload : workloads) {
                List<String> command = new ArrayList<>(List.of("pgbench", "-n", "-C"));
                command.addAll(workload);
                command.addAll(List.of("-c", Integer.toString(clients), "-j", "2", "-T", Integer.toString(seconds),
                        "-h", HOST, "-p", Integer.toString(balancer.port()), "-U", "postgres", "bench"));
                benches.add(pool.submit(() -> ClientProgram.run(command, "secret", Map.of(), seconds + 120)));
            }
            Thread.sleep(5000);
            for (int id = REPLICAS; id >= 1; id--) { // highest ordinal first, as a StatefulSet rolls
                balancer.remove(endpoint(id)); // the pod is terminating: its endpoint goes, preStop sleeps
                Thread.sleep(PRE_STOP_MILLIS);
                int inFlight = (int) (ReplicaMetrics.sum(httpPorts[id], "pgferry_backends_active")
                        + ReplicaMetrics.sum(httpPorts[id], "pgferry_clients_waiting"));
                long stop = System.nanoTime();
                jars[id].process.destroy(); // SIGTERM
                assertThat(jars[id].process.waitFor(30, TimeUnit.SECONDS)).as("replica %d drained and ended", id)
                        .isTrue();
                long drained = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stop);
                long back = System.nanoTime();
                start(id);
                awaitReady(id);
                balancer.add(endpoint(id));
                figures.add(String.format("replica %d: %d transactions in flight at SIGTERM, drained and exited in %d ms,"
                        + " back and ready in %d ms", id, inFlight, drained,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - back)));
                Thread.sleep(3000);
            }
            long rolled = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            assertThat(rolled).as("the rollout ended while pgbench still ran").isLessThan(seconds - 5);
            List<ClientProgram.Result> results = new ArrayList<>();
            for (Future<ClientProgram.Result> bench : benches) {
                results.add(bench.get());
            }
            int most = backends.most();
            figures.forEach(f -> System.out.println("RollingRestartIT: " + f));
            List<Rollout> out = new ArrayList<>();
            for (ClientProgram.Result r : results) {
                System.out.println("RollingRestartIT: pgbench:\n" + r.stdout() + r.stderr());
                out.add(new Rollout(r, clients, rolled, most, balancer.unrouted.get() - unroutedBefore));
            }
            return out;
        } finally {
            backends.stop();
            pool.shutdownNow();
        }
    }

    private static long number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertThat(m.find()).as("%s in %s", regex, out).isTrue();
        return Long.parseLong(m.group(1));
    }
}
