package dev.pgferry.hosts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.cli.PackagedJar;
import dev.pgferry.devservice.DbUser;
import dev.pgferry.devservice.LocalPostgres;
import dev.pgferry.devservice.UserlistFile;
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
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A failover under pgferry: a primary and its streaming standby of their own (the JVM's shared pair must survive
 * for other tests), the packaged jar in front with {@code app} read-write over both. The primary stops, the standby
 * is promoted; a writer through {@code app} waits in the queue meanwhile and goes on against the new primary, and
 * a transaction open on the old primary gets the error PostgreSQL gives.
 */
class FailoverIT {
    private static final String HOST = "127.0.0.1";
    private static final Duration ROLE_CHECK_INTERVAL = Duration.ofSeconds(2); // the default
    private static LocalPostgres primary;
    private static LocalPostgres standby;
    private static int port;
    private static PackagedJar.Running jar;

    @BeforeAll
    static void start() throws Exception {
        PackagedJar.jar();
        int primaryPort = freePort();
        primary = LocalPostgres.start(directory("primary", primaryPort), primaryPort,
                PostgresFixture.SUPERUSER.password());
        int standbyPort = freePort();
        standby = primary.startStandby(directory("standby", standbyPort), standbyPort);
        Path users = primary.directory().resolve("userlist.txt");
        UserlistFile.write(users, List.<DbUser>of(PostgresFixture.SUPERUSER));
        port = PackagedJar.freePort();
        jar = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=" + HOST, "-Dpgferry.listen-port=" + port,
                "-Dpgferry.auth.users-file=" + users,
                "-Dpgferry.databases.\"app\".hosts=" + HOST + ":" + primaryPort + "," + HOST + ":" + standbyPort,
                "-Dpgferry.databases.\"app\".dbname=postgres", "-Dpgferry.pool.query-wait-timeout=60s"), List.of(), "");
        jar.await(l -> l.contains("started in"), Duration.ofSeconds(120));
        jar.await(l -> l.contains("host " + HOST + ":" + primaryPort + " is primary now"), Duration.ofSeconds(30));
        jar.await(l -> l.contains("host " + HOST + ":" + standbyPort + " is standby now"), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (jar != null) {
            jar.close();
        }
        for (LocalPostgres pg : new LocalPostgres[] {standby, primary}) {
            if (pg != null) {
                pg.crash();
                deleteTree(pg.directory());
            }
        }
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + port + "/app?connectTimeout=90",
                "postgres", "secret");
    }

    @Test
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
