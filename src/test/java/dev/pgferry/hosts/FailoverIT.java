package dev.pgferry.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.cli.PackagedJar;
import dev.pgferry.devservice.DbUser;
import dev.pgferry.devservice.LocalPostgres;
import dev.pgferry.devservice.UserlistFile;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresFixture;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A failover under pgferry: a primary and its streaming standby of their own (the JVM's shared pair must survive
 * for other tests), the packaged jar in front with {@code app} read-write over both. The primary stops, the standby
 * is promoted; a writer through {@code app} waits in the queue meanwhile and goes on against the new primary, and
 * a transaction open on the old primary gets the error PostgreSQL gives.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverIT {
    private static final String HOST = "127.0.0.1";
    private static final Duration ROLE_CHECK_INTERVAL = Duration.ofSeconds(2); // the default
    private static LocalPostgres primary;
    private static LocalPostgres standby;
    /** A second standby of the first primary: {@code app_ro} spreads reads over the two standbys. */
    private static LocalPostgres standby2;
    private static int port;
    private static PackagedJar.Running jar;
    private static Path users;

    @BeforeAll
    static void start() throws Exception {
        PackagedJar.jar();
        int primaryPort = freePort();
        primary = LocalPostgres.start(directory("primary", primaryPort), primaryPort,
                PostgresFixture.SUPERUSER.password());
        int standbyPort = freePort();
        standby = primary.startStandby(directory("standby", standbyPort), standbyPort);
        int standby2Port = freePort();
        standby2 = primary.startStandby(directory("standby2", standby2Port), standby2Port);
        // not in a cluster's directory: the old primary's is made anew when it comes back as a standby
        users = Files.createTempFile("pgferry-failover-users", ".txt");
        UserlistFile.write(users, List.<DbUser>of(PostgresFixture.SUPERUSER));
        port = PackagedJar.freePort();
        jar = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=" + HOST, "-Dpgferry.listen-port=" + port,
                "-Dpgferry.auth.users-file=" + users,
                "-Dpgferry.databases.\"app\".hosts=" + HOST + ":" + primaryPort + "," + HOST + ":" + standbyPort,
                "-Dpgferry.databases.\"app\".dbname=postgres",
                "-Dpgferry.databases.\"app_bench\".hosts=" + HOST + ":" + primaryPort + "," + HOST + ":" + standbyPort,
                "-Dpgferry.databases.\"app_bench\".dbname=bench",
                "-Dpgferry.databases.\"app_ro\".hosts=" + HOST + ":" + primaryPort + "," + HOST + ":" + standbyPort
                        + "," + HOST + ":" + standby2Port,
                "-Dpgferry.databases.\"app_ro\".dbname=postgres", "-Dpgferry.databases.\"app_ro\".target-role=standby",
                "-Dpgferry.pool.query-wait-timeout=60s"), List.of(), "");
        jar.await(l -> l.contains("started in"), Duration.ofSeconds(120));
        jar.await(l -> l.contains("host " + HOST + ":" + primaryPort + " is primary now"), Duration.ofSeconds(30));
        jar.await(l -> l.contains("host " + HOST + ":" + standbyPort + " is standby now"), Duration.ofSeconds(30));
        jar.await(l -> l.contains("host " + HOST + ":" + standby2Port + " is standby now"), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (jar != null) {
            jar.close();
        }
        for (LocalPostgres pg : new LocalPostgres[] {standby2, standby, primary}) {
            if (pg != null) {
                pg.crash();
                deleteTree(pg.directory());
            }
        }
        if (users != null) {
            Files.deleteIfExists(users);
        }
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port + "/app?connectTimeout=90",
                "postgres", "secret");
    }

    /**
     * {@code app_ro} (target role standby) over the primary and two standbys: 1 000 short reads from 20 clients land
     * on the standbys only, and split within 60/40 between them.
     */
    @Test
    @Order(1)
    void readsSpreadOverBothStandbys() throws Exception {
        Map<Integer, Integer> byPort = new ConcurrentHashMap<>();
        ExecutorService clients = Executors.newFixedThreadPool(20);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                done.add(clients.submit(() -> {
                    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port
                            + "/app_ro", "postgres", "secret"); Statement st = c.createStatement()) {
                        for (int n = 0; n < 50; n++) {
                            try (ResultSet rs = st.executeQuery("select inet_server_port()")) {
                                rs.next();
                                byPort.merge(rs.getInt(1), 1, Integer::sum);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        System.out.printf("FailoverIT: 1000 reads through app_ro: standby %d, standby2 %d, primary %d%n",
                byPort.getOrDefault(standby.port(), 0), byPort.getOrDefault(standby2.port(), 0),
                byPort.getOrDefault(primary.port(), 0));
        assertThat(byPort.keySet()).as("reads go to the standbys only").containsOnly(standby.port(), standby2.port());
        assertThat(byPort.get(standby.port())).as("the split %s", byPort).isBetween(400, 600);
        assertThat(byPort.get(standby2.port())).as("the split %s", byPort).isBetween(400, 600);
    }

    @Test
    @Order(2)
    void writesStallDuringTheFailoverAndGoOnAgainstThePromotedStandby() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("create table ledger (n int primary key, port int)");
        }
        Set<Integer> committed = ConcurrentHashMap.newKeySet();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong firstCommitOnStandbyNanos = new AtomicLong();
        Thread writer = new Thread(() -> write(committed, failures, stop, firstCommitOnStandbyNanos), "ledger-writer");
        writer.start();
        awaitCommits(committed, 20);
        ExecutorService benchRunner = Executors.newSingleThreadExecutor();
        Path benchLogs = Files.createTempDirectory("pgferry-failover-pgbench");
        Future<ClientProgram.Result> bench = benchRunner.submit(() -> tpcbLike(benchLogs));
        Thread.sleep(4000); // pgbench runs against the first primary for a while

        Connection open = connect();
        open.setAutoCommit(false);
        try (Statement st = open.createStatement()) {
            st.execute("insert into ledger values (-1, inet_server_port())");
        }

        primary.stop();
        Thread.sleep(1000); // the writer's clients wait in the queue meanwhile
        long promoted = System.nanoTime();
        standby.promote();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (firstCommitOnStandbyNanos.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        int before = committed.size();
        awaitCommits(committed, before + 20);
        stop.set(true);
        writer.join(30_000);
        ClientProgram.Result benchResult = bench.get(120, TimeUnit.SECONDS);
        benchRunner.shutdown();
        checkTheBooks(benchResult, benchLogs, promoted);

        SQLException lost = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, open::commit);
        assertThat(lost.getSQLState()).as(lost.getMessage()).isIn("57P01", "08006", "08003");
        open.close();

        long failoverMillis = (firstCommitOnStandbyNanos.get() - promoted) / 1_000_000;
        System.out.printf("failover: promotion to first commit on the new primary %d ms; %d commits, %d failures: %s%n",
                failoverMillis, committed.size(), failures.size(), failures);
        assertThat(firstCommitOnStandbyNanos.get()).as("a commit on the promoted standby").isNotZero();
        assertThat(failoverMillis).as("within role-check-interval + 1 s of the promotion")
                .isLessThanOrEqualTo(ROLE_CHECK_INTERVAL.toMillis() + 1000);
        try (Connection direct = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + standby.port()
                + "/postgres", "postgres", "secret"); Statement st = direct.createStatement();
                ResultSet rs = st.executeQuery("select n from ledger")) {
            Set<Integer> present = new java.util.HashSet<>();
            while (rs.next()) {
                present.add(rs.getInt(1));
            }
            assertThat(present).as("every commit a client saw is on the new primary").containsAll(committed);
            assertThat(present).as("the transaction cut on the old primary").doesNotContain(-1);
        }
        assertThat(jar.lines()).anyMatch(l -> l.contains("host " + HOST + ":" + standby.port() + " is primary now"
                + " (was standby)"));
    }

    /**
     * After the failover the old primary comes back as a standby of the new one (a fresh base backup in its directory,
     * on its port, as an operator re-clones a failed primary). pgferry sees it as a standby and never leases a backend
     * of {@code app} (read-write) there: writes go on against the new primary, and the old primary's server shows no
     * client backend but pgferry's role check.
     */
    @Test
    @Order(3)
    void theOldPrimaryBackAsAStandbyIsNeverLeasedForWrites() throws Exception {
        int oldPort = primary.port();
        primary.crash();
        primary = standby.startStandby(primary.directory(), oldPort);
        jar.await(l -> l.contains("host " + HOST + ":" + oldPort + " is standby now"), Duration.ofSeconds(30));
        AtomicInteger leasedThere = new AtomicInteger();
        try (Connection oldServer = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + oldPort
                + "/postgres", "postgres", "secret"); Statement probe = oldServer.createStatement()) {
            for (int round = 0; round < 20; round++) {
                try (Connection c = connect(); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("insert into ledger values (" + (100_000 + round)
                                + ", inet_server_port()) returning port")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("a write of app runs on the new primary").isEqualTo(standby.port());
                }
                try (ResultSet rs = probe.executeQuery("select count(*) from pg_stat_activity where backend_type ="
                        + " 'client backend' and pid <> pg_backend_pid() and application_name <> 'pgferry-role-check'")) {
                    rs.next();
                    leasedThere.addAndGet(rs.getInt(1));
                }
                Thread.sleep(100);
            }
        }
        assertThat(leasedThere.get()).as("pgferry backends seen on the old primary, now a standby").isZero();
    }

    /**
     * pgbench's built-in TPC-B-like transaction through {@code app_bench} for 20 s at 150 transactions per second,
     * logging each transaction's end: it spans the failover. The tables are made on the first primary directly.
     */
    private static ClientProgram.Result tpcbLike(Path logs) throws Exception {
        ClientProgram.Result init = ClientProgram.run(List.of("pgbench", "-i", "-q", "-s", "1", "-h", HOST, "-p",
                Integer.toString(primary.port()), "-U", "postgres", "bench"), "secret", Map.of(), 120);
        assertThat(init.exitCode()).as("pgbench -i: %s", init.stderr()).isZero();
        return ClientProgram.run(List.of("pgbench", "-n", "-b", "tpcb-like", "-c", "8", "-j", "2", "-R", "150", "-T",
                "20", "-l", "--log-prefix=" + logs.resolve("tx"), "-h", HOST, "-p", Integer.toString(port), "-U",
                "postgres", "app_bench"), "secret", Map.of(), 120);
    }

    /**
     * The books of pgbench's run balance on the new primary (accounts, tellers, branches and history agree), every
     * transaction pgbench saw committed left its history row, and only clients caught inside a transaction by the
     * stop were aborted; transactions went on after the promotion within role-check-interval + 1 s.
     */
    private static void checkTheBooks(ClientProgram.Result bench, Path logs, long promotedNanos) throws Exception {
        long promotedEpochMicros = TimeUnit.NANOSECONDS.toMicros(promotedNanos - System.nanoTime())
                + TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
        List<Long> ends = new ArrayList<>();
        try (var files = Files.list(logs)) {
            for (Path f : files.toList()) {
                for (String line : Files.readAllLines(f)) {
                    String[] field = line.trim().split("\\s+");
                    if (field.length >= 6 && field[2].chars().allMatch(Character::isDigit)) {
                        ends.add(Long.parseLong(field[4]) * 1_000_000 + Long.parseLong(field[5]));
                    }
                }
            }
        }
        long aborted = bench.stderr().lines().filter(l -> l.contains("aborted in command")).count();
        long firstAfter = ends.stream().filter(t -> t >= promotedEpochMicros).min(Long::compare).orElse(0L);
        long[] books = new long[5];
        try (Connection direct = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + standby.port()
                + "/bench", "postgres", "secret"); Statement st = direct.createStatement();
                ResultSet rs = st.executeQuery("SELECT (SELECT sum(abalance) FROM pgbench_accounts),"
                        + " (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(bbalance) FROM pgbench_branches),"
                        + " (SELECT coalesce(sum(delta), 0) FROM pgbench_history),"
                        + " (SELECT count(*) FROM pgbench_history)")) {
            rs.next();
            for (int i = 0; i < books.length; i++) {
                books[i] = rs.getLong(i + 1);
            }
        }
        System.out.printf("FailoverIT: pgbench tpcb-like: %d committed, %d clients aborted, promotion to first"
                + " pgbench commit on the new primary %d ms; books: accounts %d, tellers %d, branches %d, history"
                + " deltas %d in %d rows%n%s%s", ends.size(), aborted, (firstAfter - promotedEpochMicros) / 1000,
                books[0], books[1], books[2], books[3], books[4], bench.stdout(), bench.stderr());
        assertThat(bench.exitCode()).as("pgbench: %s", bench.stderr()).isIn(0, 2);
        assertThat(aborted).as("only clients caught inside a transaction fail: %s", bench.stderr()).isLessThan(8);
        assertThat(firstAfter).as("pgbench commits on the new primary").isNotZero();
        assertThat((firstAfter - promotedEpochMicros) / 1000).as("within role-check-interval + 1 s of the promotion")
                .isLessThanOrEqualTo(ROLE_CHECK_INTERVAL.toMillis() + 1000);
        assertThat(List.of(books[1], books[2], books[3])).as("the books balance against accounts %d", books[0])
                .containsOnly(books[0]);
        assertThat(books[4]).as("a history row for every transaction pgbench saw committed; at most one more per"
                + " aborted client (its COMMIT done, the answer cut)").isBetween((long) ends.size(),
                ends.size() + aborted);
    }

    /**
     * Inserts row after row through pgferry, one autocommit statement each, reconnecting after an error; a row is
     * committed once the server said so.
     */
    private static void write(Set<Integer> committed, ConcurrentLinkedQueue<String> failures, AtomicBoolean stop,
            AtomicLong firstCommitOnStandbyNanos) {
        int n = 0;
        Connection c = null;
        while (!stop.get()) {
            try {
                if (c == null) {
                    c = connect();
                }
                try (Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("insert into ledger values (" + n + ", inet_server_port())"
                                + " returning port")) {
                    rs.next();
                    committed.add(n);
                    if (rs.getInt(1) == standby.port()) {
                        firstCommitOnStandbyNanos.compareAndSet(0, System.nanoTime());
                    }
                }
                Thread.sleep(10);
            } catch (SQLException e) {
                failures.add(n + ": " + e.getSQLState() + " " + e.getMessage());
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (SQLException ignored) {
                    // it is gone already
                }
                c = null;
            } catch (InterruptedException e) {
                return;
            }
            n++;
        }
        try {
            if (c != null) {
                c.close();
            }
        } catch (SQLException ignored) {
            // the test is over
        }
    }

    private static void awaitCommits(Set<Integer> committed, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (committed.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(committed.size()).isGreaterThanOrEqualTo(count);
    }

    private static Path directory(String role, int port) {
        boolean root = "root".equals(System.getProperty("user.name"));
        Path base = !root && Files.isDirectory(Path.of("target")) ? Path.of("target") : Path.of("/tmp");
        return base.resolve("pgferry-failover-" + role + "-" + port).toAbsolutePath();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (Exception e) {
            System.err.println("not cleaned up: " + dir + ": " + e);
        }
    }
}
