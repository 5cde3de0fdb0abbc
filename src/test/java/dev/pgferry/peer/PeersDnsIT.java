package dev.pgferry.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.cli.PackagedJar;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.RawWireClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * pgferry.peers-dns against a real DNS server ({@link TestDnsServer}, answering as CoreDNS does for a headless Service
 * and its StatefulSet pods), with pgferry processes (the packaged jar) as the pods: each on its own loopback address
 * (127.0.0.1, .2, .3) and the one port, its hostname {@code pgferry-N} giving its peer id, as in a cluster. The peers
 * and the shares of the cluster budget follow the records: two names, two replicas; a third record, three shares; the
 * record gone, the shares grow back.
 */
class PeersDnsIT {
    private static final String SERVICE = "pgferry-peers.pgferry.test";
    private static final int BUDGET = 12;
    private static final int PODS = 3;
    private static PostgresFixture pg;
    private static TestDnsServer dns;
    private static int port;
    private static final int[] httpPorts = new int[PODS];
    private static final PackagedJar.Running[] pods = new PackagedJar.Running[PODS];

    @BeforeAll
    static void startDns() throws Exception {
        PackagedJar.jar();
        for (int i = 1; i < PODS; i++) {
            assumeTrue(canBind(address(i)), "cannot bind " + address(i) + ": the pods need loopback addresses of their"
                    + " own (Linux routes all of 127/8 to lo; elsewhere add an alias)");
        }
        pg = PostgresFixture.get();
        dns = new TestDnsServer();
        port = PackagedJar.freePort();
        for (int i = 0; i < PODS; i++) {
            httpPorts[i] = PackagedJar.freePort();
        }
    }

    private static boolean canBind(String address) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(address))) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (PackagedJar.Running p : pods) {
            if (p != null) {
                p.close();
            }
        }
        if (dns != null) {
            dns.close();
        }
    }

    private static String address(int ordinal) {
        return "127.0.0." + (ordinal + 1);
    }

    /** Pod {@code pgferry-<ordinal>}, its records published first (publishNotReadyAddresses: before it is ready). */
    private static void startPod(int ordinal) throws Exception {
        List<String> o = PackagedJar.options("-Dpgferry.listen-host=" + address(ordinal), "-Dpgferry.listen-port=" + port,
                "-Dpgferry.backend.host=" + pg.host(), "-Dpgferry.backend.port=" + pg.port(),
                "-Dpgferry.auth.users-file=" + pg.usersFile(), "-Dpgferry.peers-dns=" + SERVICE + ":" + port,
                "-Dpgferry.peers-dns-server=127.0.0.1:" + dns.port(), "-Dpgferry.peer-probe-interval=500ms",
                "-Dpgferry.pool.cluster-max-db-connections=" + BUDGET,
                "-Dquarkus.log.category.\"dev.pgferry.peer\".level=DEBUG");
        o.add("-Dquarkus.http.port=" + httpPorts[ordinal]);
        pods[ordinal] = PackagedJar.start(o, List.of(), "", Map.of("HOSTNAME", "pgferry-" + ordinal));
    }

    private static void publish(int... ordinals) throws Exception {
        dns.set(SERVICE, Arrays.stream(ordinals).mapToObj(PeersDnsIT::address).toArray(String[]::new));
        for (int i = 0; i < PODS; i++) {
            int ordinal = i;
            boolean in = Arrays.stream(ordinals).anyMatch(x -> x == ordinal);
            dns.set("pgferry-" + i + "." + SERVICE, in ? new String[] {address(i)} : new String[0]);
        }
    }

    @Test
    void peersAndSharesFollowTheHeadlessServiceRecords() throws Exception {
        publish(0, 1);
        startPod(0);
        startPod(1);
        pods[0].await(l -> l.contains("started in"), Duration.ofSeconds(120));
        pods[1].await(l -> l.contains("started in"), Duration.ofSeconds(120));
        awaitShare(BUDGET / 2, 0, 1);
        assertThat(pods[0].lines()).anyMatch(l -> l.contains("peer 1: 2 replicas alive (this one included), peers [2]"));
        cancelThrough(0, 1);
        cancelThrough(1, 0);

        publish(0, 1, 2); // a third pod
        startPod(2);
        pods[2].await(l -> l.contains("started in"), Duration.ofSeconds(120));
        awaitShare(BUDGET / 3, 0, 1, 2);
        cancelThrough(0, 2);
        cancelThrough(2, 1);
        System.out.printf("PeersDnsIT: %d DNS questions answered so far%n", dns.questions.get());

        pods[2].close(); // scaled in: SIGTERM, then its records go
        publish(0, 1);
        awaitShare(BUDGET / 2, 0, 1);
        // a key of the pod that is gone: dropped, not forwarded
        try (RawWireClient c = login(0)) {
            byte[] key = c.backendKeyData().clone();
            byte[] secret = Arrays.copyOfRange(key, 4, key.length);
            PeerKey.stamp(secret, 3);
            System.arraycopy(secret, 0, key, 4, secret.length);
            assertThat(RawWireClient.cancel(address(1), port, key)).isEqualTo(RawWireClient.Msg.EOF);
        }
        pods[1].await(l -> l.contains("its key is of peer 3, which this peer (2) does not know"), Duration.ofSeconds(5));
    }

    private static RawWireClient login(int ordinal) throws Exception {
        return RawWireClient.connect(address(ordinal), port).protocol(RawWireClient.PROTOCOL_3_0).timeout(40_000)
                .logIn("postgres", "secret", "postgres");
    }

    /** A pg_sleep through pod {@code origin} is canceled by a CancelRequest sent to pod {@code via}. */
    private static void cancelThrough(int origin, int via) throws Exception {
        String sql = "SELECT pg_sleep(30) /* on pgferry-" + origin + ", canceled through pgferry-" + via + " */";
        try (RawWireClient c = login(origin)) {
            c.send(RawWireClient.query(sql));
            awaitRunning(sql);
            long t0 = System.nanoTime();
            assertThat(RawWireClient.cancel(address(via), port, c.backendKeyData())).isEqualTo(RawWireClient.Msg.EOF);
            List<RawWireClient.Msg> reply = c.readUntilReady();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertThat(reply).as("canceled through pgferry-%d", via)
                    .anyMatch(m -> m.type() == 'E' && "57014".equals(m.field('C')));
            assertThat(millis).isLessThan(1000);
        }
    }

    private static void awaitRunning(String sql) throws Exception {
        ServerActivity.awaitRunning(pg, sql);
    }

    private static void awaitShare(int share, int... ordinals) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (int ordinal : ordinals) {
            double now;
            while ((now = ReplicaMetrics.first(httpPorts[ordinal], "pgferry_cluster_share\\{database=\"\\*\"")) != share) {
                assertThat(System.nanoTime()).as("pgferry-%d's share is %s, never became %d", ordinal, now, share)
                        .isLessThan(deadline);
                Thread.sleep(100);
            }
        }
        System.out.printf("PeersDnsIT: pods %s each at a share of %d of %d%n", Arrays.toString(ordinals), share, BUDGET);
    }
}
