package dev.pgferry.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.cli.PackagedJar;
import dev.pgferry.testing.BackendSampler;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.RawWireClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three pgferry processes (the packaged jar) peered in front of one PostgreSQL, as three replicas behind a Service:
 * a cancel sent to any replica reaches the query where it runs, a cancel nobody issued goes nowhere, and a cluster
 * budget of 12 backends holds across all three, as replicas come and go.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PeeringIT {
    private static final int REPLICAS = 3;
    private static final int BUDGET = 12;
    private static final String HOST = "127.0.0.1";
    private static PostgresFixture pg;
    private static final int[] ports = new int[REPLICAS + 1];
    private static final int[] httpPorts = new int[REPLICAS + 1];
    private static final PackagedJar.Running[] jars = new PackagedJar.Running[REPLICAS + 1];

    @BeforeAll
    static void startReplicas() throws Exception {
        PackagedJar.jar();
        pg = PostgresFixture.get();
        for (int id = 1; id <= REPLICAS; id++) {
            ports[id] = port(16560 + id);
            httpPorts[id] = port(18560 + id);
        }
        for (int id = 1; id <= REPLICAS; id++) {
            start(id);
        }
        for (int id = 1; id <= REPLICAS; id++) {
            jars[id].await(l -> l.contains("started in"), Duration.ofSeconds(120));
        }
    }

    /** {@code wanted} when it is free, else any free port. */
    private static int port(int wanted) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(wanted)) {
            return wanted;
        } catch (java.io.IOException e) {
            return PackagedJar.freePort();
        }
    }

    private static void start(int id) throws Exception {
        List<String> o = PackagedJar.options("-Dpgferry.listen-host=" + HOST, "-Dpgferry.listen-port=" + ports[id],
                "-Dpgferry.backend.host=" + pg.host(), "-Dpgferry.backend.port=" + pg.port(),
                "-Dpgferry.auth.users-file=" + pg.usersFile(), "-Dpgferry.peer-id=" + id,
                "-Dpgferry.peer-probe-interval=500ms", "-Dpgferry.pool.cluster-max-db-connections=" + BUDGET,
                "-Dpgferry.pool.size=40", "-Dquarkus.log.category.\"dev.pgferry.peer\".level=DEBUG");
        for (int peer = 1; peer <= REPLICAS; peer++) {
            o.add("-Dpgferry.peers.\"" + peer + "\".host=" + HOST);
            o.add("-Dpgferry.peers.\"" + peer + "\".port=" + ports[peer]);
        }
        o.add("-Dquarkus.http.port=" + httpPorts[id]); // the later -D wins over options()'s
        jars[id] = PackagedJar.start(o, List.of(), "");
    }

    @AfterAll
    static void stopReplicas() throws Exception {
        for (PackagedJar.Running j : jars) {
            if (j != null) {
                j.close();
            }
        }
    }

    /** Logs in to replica {@code id} over protocol 3.0 or 3.2 (a 4-byte or 32-byte cancel key). */
    private static RawWireClient login(int id, int protocol) throws Exception {
        return RawWireClient.connect(HOST, ports[id]).protocol(protocol).timeout(40_000)
                .logIn("postgres", "secret", "postgres");
    }

    private static void awaitRunning(String sql) throws Exception {
        ServerActivity.awaitRunning(pg, sql);
    }

    @Order(1)
    @Test
    void aSleepThroughReplicaOneIsCanceledThroughReplicasTwoAndThreeWithinOneSecond() throws Exception {
        double before = metric(2, "pgferry_peer_cancels_forwarded_total");
        for (int protocol : new int[] {RawWireClient.PROTOCOL_3_0, RawWireClient.PROTOCOL_3_2}) {
            for (int via = 2; via <= REPLICAS; via++) {
                String sql = "SELECT pg_sleep(30) /* via " + via + " protocol " + protocol + " */";
                try (RawWireClient c = login(1, protocol)) {
                    assertThat(c.backendKeyData()).hasSize(protocol == RawWireClient.PROTOCOL_3_2 ? 36 : 8);
                    c.send(RawWireClient.query(sql));
                    awaitRunning(sql);
                    long t0 = System.nanoTime();
                    assertThat(RawWireClient.cancel(HOST, ports[via], c.backendKeyData()))
                            .isEqualTo(RawWireClient.Msg.EOF);
                    List<RawWireClient.Msg> reply = c.readUntilReady();
                    long millis = (System.nanoTime() - t0) / 1_000_000;
                    RawWireClient.Msg error = reply.stream().filter(m -> m.type() == 'E').findFirst().orElseThrow(
                            () -> new AssertionError("not canceled: " + reply));
                    assertThat(error.field('C')).isEqualTo("57014");
                    assertThat(millis).as("cancel via replica %d, protocol %x", via, protocol).isLessThan(1000);
                    System.out.printf("PeeringIT: cancel via replica %d (protocol %x) took %d ms%n", via, protocol,
                            millis);
                    // the session goes on
                    assertThat(RawWireClient.firstValue(c.exchange(1, RawWireClient.query("SELECT 1")))).isEqualTo("1");
                }
            }
        }
        assertThat(metric(2, "pgferry_peer_cancels_forwarded_total") - before).isEqualTo(2.0);
    }

    @Order(2)
    @Test
    void aCancelForAnUnknownPeerOrOneForwardedAlreadyIsDroppedWithoutALoop() throws Exception {
        double droppedBefore = metric(2, "pgferry_peer_cancels_dropped_total");
        double forwardedBefore = 0;
        for (int id = 1; id <= REPLICAS; id++) {
            forwardedBefore += metric(id, "pgferry_peer_cancels_forwarded_total");
        }
        String sql = "SELECT pg_sleep(2) /* not canceled */";
        try (RawWireClient c = login(1, RawWireClient.PROTOCOL_3_0)) {
            c.send(RawWireClient.query(sql));
            awaitRunning(sql);
            byte[] unknownPeer = c.backendKeyData().clone();
            byte[] secret = java.util.Arrays.copyOfRange(unknownPeer, 4, unknownPeer.length);
            PeerKey.stamp(secret, 9);
            System.arraycopy(secret, 0, unknownPeer, 4, secret.length);
            byte[] looped = c.backendKeyData().clone();
            byte[] marked = PeerKey.markForwarded(java.util.Arrays.copyOfRange(looped, 4, looped.length));
            System.arraycopy(marked, 0, looped, 4, marked.length);
            for (byte[] key : List.of(unknownPeer, looped)) {
                long t0 = System.nanoTime();
                assertThat(RawWireClient.cancel(HOST, ports[2], key)).isEqualTo(RawWireClient.Msg.EOF);
                assertThat((System.nanoTime() - t0) / 1_000_000).as("answered at once").isLessThan(1000);
            }
            List<RawWireClient.Msg> reply = c.readUntilReady();
            assertThat(reply).noneMatch(m -> m.type() == 'E');
        }
        assertThat(metric(2, "pgferry_peer_cancels_dropped_total") - droppedBefore).isEqualTo(2.0);
        double forwardedAfter = 0;
        for (int id = 1; id <= REPLICAS; id++) {
            forwardedAfter += metric(id, "pgferry_peer_cancels_forwarded_total");
        }
        assertThat(forwardedAfter).as("nothing forwarded anywhere").isEqualTo(forwardedBefore);
        assertThat(jars[2].lines()).anyMatch(l -> l.contains("its key is of peer 9, which this peer (2) does not know"))
                .anyMatch(l -> l.contains("it was forwarded here already, and this is peer 2"));
    }

    @Order(3)
    @Test
    void backendsStayWithinTheClusterBudgetAsAReplicaLeavesAndReturns() throws Exception {
        assumeTrue(pg.isLocal(), "pgbench needs the local cluster's tools");
        pg.local().initPgbench(1);
        Path script = Files.createTempFile("pgferry-peer", ".sql");
        Files.writeString(script, "SELECT pg_sleep(0.02);\n");
        awaitShare(new int[] {1, 2, 3}, BUDGET / 3);
        int most = bench(new int[] {1, 2, 3}, script, 8);
        System.out.printf("PeeringIT: 3 replicas, budget %d: at most %d backends%n", BUDGET, most);
        assertThat(most).isLessThanOrEqualTo(BUDGET).isGreaterThanOrEqualTo(BUDGET - 3);

        jars[3].close(); // SIGTERM: drains and stops
        awaitShare(new int[] {1, 2}, BUDGET / 2);
        most = bench(new int[] {1, 2}, script, 8);
        System.out.printf("PeeringIT: 2 replicas, budget %d: at most %d backends%n", BUDGET, most);
        assertThat(most).isLessThanOrEqualTo(BUDGET).isGreaterThan(BUDGET / 3 * 2);

        start(3);
        jars[3].await(l -> l.contains("started in"), Duration.ofSeconds(120));
        // pgbench on all three at once while replica 3 rejoins: the others shrink first, it takes its share after
        most = bench(new int[] {1, 2, 3}, script, 10);
        System.out.printf("PeeringIT: replica 3 back, budget %d: at most %d backends%n", BUDGET, most);
        assertThat(most).isLessThanOrEqualTo(BUDGET);
        awaitShare(new int[] {1, 2, 3}, BUDGET / 3);
        Files.deleteIfExists(script);
    }

    @Order(4)
    @Test
    void aQueryOnADrainingReplicaIsCanceledDirectlyAndThroughAPeer() throws Exception {
        String direct = "SELECT pg_sleep(30) /* draining, canceled directly */";
        String viaPeer = "SELECT pg_sleep(30) /* draining, canceled through replica 2 */";
        try (RawWireClient a = login(1, RawWireClient.PROTOCOL_3_0);
                RawWireClient b = login(1, RawWireClient.PROTOCOL_3_2)) {
            a.send(RawWireClient.query(direct));
            b.send(RawWireClient.query(viaPeer));
            awaitRunning(direct);
            awaitRunning(viaPeer);
            jars[1].process.destroy(); // SIGTERM: replica 1 drains, its two queries keep it alive
            awaitDraining(1);
            long t0 = System.nanoTime();
            assertThat(RawWireClient.cancel(HOST, ports[1], a.backendKeyData())).isEqualTo(RawWireClient.Msg.EOF);
            assertCanceled(a.readUntilReady(), t0, "directly");
            t0 = System.nanoTime();
            assertThat(RawWireClient.cancel(HOST, ports[2], b.backendKeyData())).isEqualTo(RawWireClient.Msg.EOF);
            assertCanceled(b.readUntilReady(), t0, "through replica 2");
        }
        assertThat(jars[1].process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS))
                .as("replica 1 ends its drain once its queries are over").isTrue();
        start(1);
        jars[1].await(l -> l.contains("started in"), Duration.ofSeconds(120));
    }

    /** Waits until replica {@code id} answers a login with 57P03: it drains, its listener still open. */
    private static void awaitDraining(int id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            try (RawWireClient c = RawWireClient.connect(HOST, ports[id]).timeout(5000)) {
                c.send(RawWireClient.startupMessage("user", "postgres", "database", "postgres"));
                RawWireClient.Msg m = c.read();
                if (m.type() == 'E' && "57P03".equals(m.field('C'))) {
                    return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("replica " + id + " never drained");
    }

    private static void assertCanceled(List<RawWireClient.Msg> reply, long t0, String how) {
        long millis = (System.nanoTime() - t0) / 1_000_000;
        RawWireClient.Msg error = reply.stream().filter(m -> m.type() == 'E').findFirst().orElseThrow(
                () -> new AssertionError("not canceled " + how + ": " + reply));
        assertThat(error.field('C')).isEqualTo("57014");
        assertThat(millis).as("cancel %s of a draining replica's query", how).isLessThan(1000);
        System.out.printf("PeeringIT: a draining replica's query canceled %s in %d ms%n", how, millis);
    }

    private static void awaitShare(int[] ids, int share) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (int id : ids) {
            while (metric(id, "pgferry_cluster_share\\{database=\"\\*\"") != share) {
                assertThat(System.nanoTime()).as("replica %d's share never became %d", id, share).isLessThan(deadline);
                Thread.sleep(100);
            }
        }
    }

    /**
     * Runs pgbench with 40 clients on each of {@code ids} for {@code seconds}, sampling the backends of the bench
     * database every 50 ms; asserts no failed transaction and returns the most seen at once.
     */
    private static int bench(int[] ids, Path script, int seconds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(ids.length + 1);
        BackendSampler backends = new BackendSampler(pg, pool, "bench", null, Duration.ofMillis(50));
        try {
            List<Future<ClientProgram.Result>> runs = new ArrayList<>();
            for (int id : ids) {
                runs.add(pool.submit(() -> ClientProgram.run(List.of("pgbench", "-n", "-f", script.toString(), "-c", "40",
                        "-j", "2", "-T", Integer.toString(seconds), "-h", HOST, "-p", Integer.toString(ports[id]), "-U",
                        "postgres", "bench"), "secret", Map.of(), seconds + 120)));
            }
            for (Future<ClientProgram.Result> f : runs) {
                ClientProgram.Result r = f.get();
                assertThat(r.exitCode()).as("pgbench: %s %s", r.stdout(), r.stderr()).isZero();
                Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(r.stdout());
                assertThat(failed.find() && failed.group(1).equals("0")).as(r.stdout()).isTrue();
            }
            return backends.most();
        } finally {
            backends.stop();
            pool.shutdownNow();
        }
    }

    /** The value of the first line of replica {@code id}'s metrics starting with {@code name} (a regex). */
    private static double metric(int id, String name) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPorts[id] + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("^" + name + "\\S* (\\S+)$", Pattern.MULTILINE).matcher(r.body());
        if (!m.find()) {
            throw new AssertionError(name + " not in the metrics of replica " + id + ":\n" + r.body());
        }
        return Double.parseDouble(m.group(1));
    }
}
