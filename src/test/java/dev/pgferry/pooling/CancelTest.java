package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.server.ProxyServer;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

/**
 * CancelRequest on a pool of one backend ({@code postgres/md5_u}), so that every client shares the same server
 * process: a cancel stops the query of the client whose key it carries, and nobody else's, whenever it arrives.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class CancelTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Inject
    ProxyServer server;

    static final String USER = "md5_u";
    static final String DB = "postgres";
    static final String CANCELED = "canceling statement due to user request";
    /** pgferry's own answer to a cancel of a client still waiting for a backend: the error, then ReadyForQuery 'I'. */
    static final List<Msg> CANCELED_WHILE_WAITING = List.of(
            new Msg('E', ("SERROR\0VERROR\0C57014\0M" + CANCELED + "\0\0").getBytes(StandardCharsets.UTF_8)),
            new Msg('Z', new byte[] {'I'}));
    final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private RawWireClient login() throws IOException {
        return RawWireClient.login(Clients.HOST, port, 10_000, USER, Clients.PASSWORDS.get(USER), DB);
    }

    private RawWireClient login(int protocol) throws IOException {
        return RawWireClient.connect(Clients.HOST, port).timeout(10_000).protocol(protocol)
                .logIn(USER, Clients.PASSWORDS.get(USER), DB);
    }

    /** {@link RawWireClient#cancel} to {@code serverPort} on this machine. */
    private static Msg cancel(int serverPort, byte[] keyData) throws IOException {
        return RawWireClient.cancel(Clients.HOST, serverPort, keyData);
    }

    private static List<Character> types(List<Msg> messages) {
        return messages.stream().map(m -> (char) m.type()).toList();
    }

    /** What a raw client reads for a query canceled by its own CancelRequest, as from PostgreSQL. */
    private static void assertCanceled(List<Msg> reply) {
        assertThat(reply.stream().filter(m -> m.type() == 'E').toList()).singleElement().satisfies(e -> {
            assertThat(e.field('S')).isEqualTo("ERROR");
            assertThat(e.field('C')).isEqualTo("57014");
            assertThat(e.field('M')).isEqualTo(CANCELED);
        });
        assertThat(reply.get(reply.size() - 1)).isEqualTo(new Msg('Z', new byte[] {'I'}));
    }

    private CompletableFuture<List<Msg>> queryAsync(RawWireClient c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.exchange(1, RawWireClient.query(sql));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, threads);
    }

    @Test
    @Timeout(60)
    void pgjdbcCancelStopsItsPgSleepOnTheSharedBackendAndTheWaitingClientIsServedAfterIt() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB); Connection b = Clients.proxy(port, USER, DB);
                Connection direct = Clients.direct(DB); Statement sleeping = a.createStatement()) {
            String aPid = one(a, "select pg_backend_pid()");
            CompletableFuture<Throwable> canceled = CompletableFuture.supplyAsync(() -> {
                try {
                    sleeping.executeQuery("select pg_sleep(20)").close();
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            }, threads);
            Clients.awaitActive(direct, USER, "select pg_sleep(20)");
            // B needs the only backend: it waits behind A's sleep
            CompletableFuture<String> bystander = CompletableFuture.supplyAsync(() -> {
                try {
                    return one(b, "select 'bystander on ' || pg_backend_pid()");
                } catch (SQLException e) {
                    return "SQLSTATE " + e.getSQLState() + ": " + e.getMessage();
                }
            }, threads);
            Thread.sleep(200);
            assertThat(bystander).as("B waits for the backend A holds").isNotDone();
            long t0 = System.nanoTime();
            sleeping.cancel(); // pgjdbc: a CancelRequest with pgferry's key, then waits for the close
            Throwable error = canceled.get(5, TimeUnit.SECONDS);
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds from cancel to error").isLessThan(1.0);
            assertThat(error).isInstanceOf(PSQLException.class);
            var server = ((PSQLException) error).getServerErrorMessage();
            assertThat(server.getSQLState()).isEqualTo("57014");
            assertThat(server.getSeverity()).isEqualTo("ERROR");
            assertThat(server.getMessage()).isEqualTo(CANCELED);
            assertThat(bystander.get(5, TimeUnit.SECONDS)).isEqualTo("bystander on " + aPid);
            assertThat(one(a, "select 'a works on ' || pg_backend_pid()")).isEqualTo("a works on " + aPid);
        }
    }

    /** psql's Ctrl-C (SIGINT): libpq's PQcancel sends a CancelRequest with pgferry's key and waits for the close. */
    @Test
    @Timeout(60)
    void psqlInterruptedStopsItsPgSleepWithThePostgresErrorAndTheNextClientIsServed() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/psql", "-X", "-w", "-At", "-h", Clients.HOST, "-p",
                Integer.toString(port), "-U", USER, "-d", DB, "-c", "select pg_sleep(20)");
        pb.environment().put("PGPASSWORD", Clients.PASSWORDS.get(USER));
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Path err = Files.createTempFile("pgferry-psql", ".err");
        pb.redirectError(err.toFile());
        // pgjdbc's connect runs a query: B logs in before psql takes the only backend
        try (Connection b = Clients.proxy(port, USER, DB); Connection direct = Clients.direct(DB)) {
            Process psql = pb.start();
            try {
                Clients.awaitActive(direct, USER, "select pg_sleep(20)");
                long t0 = System.nanoTime();
                new ProcessBuilder("kill", "-INT", Long.toString(psql.pid())).inheritIO().start().waitFor();
                assertThat(psql.waitFor(5, TimeUnit.SECONDS)).as("psql ended").isTrue();
                assertThat((System.nanoTime() - t0) / 1e9).as("seconds from Ctrl-C to psql's end").isLessThan(1.0);
                assertThat(psql.exitValue()).isEqualTo(1);
                // psql's line once PQcancel saw the close (else "Could not send cancel request: ..."), then the error
                assertThat(Files.readString(err, StandardCharsets.UTF_8))
                        .isEqualTo("Cancel request sent\nERROR:  canceling statement due to user request\n");
                assertThat(one(b, "select 'b served'")).isEqualTo("b served");
            } finally {
                psql.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(err);
        }
    }

    @Test
    @Timeout(60)
    void cancelWithAWrongKeyOrAnUnknownProcessIdCancelsNothingAndIsClosedWithoutAReplyAsByPostgres() throws Exception {
        try (RawWireClient a = login(); Connection direct = Clients.direct(DB)) {
            byte[] keyData = a.backendKeyData();
            assertThat(keyData).as("process id and a 4-byte key").hasSize(8);
            CompletableFuture<List<Msg>> sleep = queryAsync(a, "select 'slept ' || pg_sleep(1.5)");
            int backendPid = Clients.awaitActive(direct, USER, "select 'slept ");

            byte[] wrongKey = keyData.clone();
            wrongKey[7] ^= 1;
            assertThat(cancel(port, wrongKey)).as("wrong key: closed, nothing sent").isEqualTo(Msg.EOF);
            byte[] unknownPid = keyData.clone();
            RawWireClient.setInt(unknownPid, 0, 0); // pgferry issues positive process ids only
            assertThat(cancel(port, unknownPid)).as("unknown process id: closed, nothing sent").isEqualTo(Msg.EOF);
            byte[] backendsOwnPid = keyData.clone();
            RawWireClient.setInt(backendsOwnPid, 0, backendPid); // the server's pid means nothing to pgferry
            assertThat(cancel(port, backendsOwnPid)).as("the server's own pid: closed, nothing sent")
                    .isEqualTo(Msg.EOF);

            List<Msg> reply = sleep.get(10, TimeUnit.SECONDS);
            assertThat(types(reply)).containsExactly('T', 'D', 'C', 'Z');
            assertThat(RawWireClient.firstValue(reply)).isEqualTo("slept ");
        }
        // PostgreSQL itself: the same silent close for a key it does not know
        byte[] bogus = new byte[8];
        RawWireClient.setInt(bogus, 0, Integer.MAX_VALUE - 7);
        assertThat(cancel(PostgresFixture.get().port(), bogus)).isEqualTo(Msg.EOF);
    }

    @Test
    @Timeout(60)
    void cancelOfAClientWhoseQueryIsOverDoesNotCancelTheQueryOfTheNextClientOnItsBackend() throws Exception {
        try (RawWireClient a = login(); RawWireClient b = login(); Connection direct = Clients.direct(DB)) {
            List<Msg> first = a.exchange(1, RawWireClient.query("select pg_backend_pid()"));
            assertThat(types(first)).containsExactly('T', 'D', 'C', 'Z');
            String aPid = RawWireClient.firstValue(first);
            // A's backend went back to the pool at its ReadyForQuery; B takes it (the only one) for a 2 s sleep
            CompletableFuture<List<Msg>> sleep = queryAsync(b, "select pg_backend_pid() || ' slept ' || pg_sleep(2)");
            assertThat(Integer.toString(Clients.awaitActive(direct, USER, "select pg_backend_pid() || ' slept '"))).isEqualTo(aPid);
            long t0 = System.nanoTime();
            assertThat(cancel(port, a.backendKeyData())).as("closed without a reply").isEqualTo(Msg.EOF);
            List<Msg> reply = sleep.get(10, TimeUnit.SECONDS);
            assertThat(types(reply)).as("B's query completes normally").containsExactly('T', 'D', 'C', 'Z');
            assertThat(RawWireClient.firstValue(reply)).isEqualTo(aPid + " slept ");
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds B still slept after the cancel").isGreaterThan(1.0);
            assertThat(RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select 'a works'")))).isEqualTo("a works");
        }
    }

    /**
     * The release race: A's CancelRequest sent while A's short query runs or just after it ended, 200 times, while B
     * keeps the only backend busy with its own queries whenever A does not hold it. The cancel may stop A's query that
     * was running when it was sent, nothing else: B never sees an error, and neither does a query A sends after the
     * cancel connection closed (as with PostgreSQL, whose close says the cancel has been delivered).
     */
    @Test
    @Timeout(120)
    void cancelRacingTheReleaseOfTheBackendNeverCancelsTheNextClientsQuery() throws Exception {
        int iterations = 200;
        try (RawWireClient a = login(); RawWireClient b = login()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger bQueries = new AtomicInteger();
            List<String> bProblems = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<Void> bLoop = CompletableFuture.runAsync(() -> {
                try {
                    while (!stop.get()) {
                        List<Msg> r = b.exchange(1, RawWireClient.query("select 'b ' || pg_sleep(0.003)"));
                        if (!types(r).equals(List.of('T', 'D', 'C', 'Z'))) {
                            bProblems.add("B's query " + bQueries.get() + ": " + r);
                        }
                        bQueries.incrementAndGet();
                    }
                } catch (IOException e) {
                    bProblems.add(e.toString());
                }
            }, threads);
            int aCanceled = 0;
            List<String> aProblems = new ArrayList<>();
            for (int i = 0; i < iterations; i++) {
                a.send(RawWireClient.query("select 'a ' || pg_sleep(0.003)"));
                boolean afterAnswer = i % 2 == 1;
                List<Msg> reply = afterAnswer ? a.readUntilReady() : null;
                // somewhere in the 4 ms around the end of A's query (or of its wait for the backend)
                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(TimeUnit.MILLISECONDS.toNanos(4)));
                assertThat(cancel(port, a.backendKeyData())).isEqualTo(Msg.EOF);
                if (!afterAnswer) {
                    reply = a.readUntilReady();
                }
                if (types(reply).equals(List.of('T', 'D', 'C', 'Z')) && RawWireClient.firstValue(reply).equals("a ")) {
                    continue;
                }
                if (afterAnswer) {
                    aProblems.add("A's query " + i + ", sent after the previous cancel's connection closed: " + reply);
                } else {
                    assertCanceled(reply); // its own query, running when the cancel was sent
                    aCanceled++;
                }
            }
            stop.set(true);
            bLoop.get(10, TimeUnit.SECONDS);
            System.out.printf("cancel race: %d of %d cancels stopped A's own query, B ran %d queries%n", aCanceled,
                    iterations, bQueries.get());
            assertThat(bProblems).as("B's answers").isEmpty();
            assertThat(aProblems).as("A's answers").isEmpty();
            assertThat(bQueries.get()).as("B ran queries between A's").isGreaterThan(iterations / 4);
            assertThat(RawWireClient.firstValue(b.exchange(1, RawWireClient.query("select 'b works'")))).isEqualTo("b works");
        }
    }

    /**
     * The same race for a client that keeps its backend (inside a transaction): a client that waits for the close of
     * its cancel connection (libpq, pgjdbc) may send its next statement then, and the cancel must have reached the
     * server before, as with PostgreSQL itself (checked first); pgferry closes only once the server closed the
     * connection it forwarded on.
     */
    @Test
    @Timeout(60)
    void aStatementSentAfterTheCancelConnectionClosedIsNeverCanceledByIt() throws Exception {
        try (RawWireClient direct = RawWireClient.login(Clients.HOST, PostgresFixture.get().port(), 10_000, USER,
                Clients.PASSWORDS.get(USER), DB)) {
            assertThat(statementsHitByAnEarlierCancel(direct, PostgresFixture.get().port(), 20)).as("PostgreSQL")
                    .isEmpty();
        }
        try (RawWireClient a = login()) {
            assertThat(statementsHitByAnEarlierCancel(a, port, 100)).as("pgferry").isEmpty();
        }
    }

    /** Inside a transaction, n times: a cancel while idle, then after its close a 10 ms statement; those canceled. */
    private static List<String> statementsHitByAnEarlierCancel(RawWireClient c, int cancelPort, int n)
            throws IOException {
        assertThat(types(c.exchange(1, RawWireClient.query("begin")))).containsExactly('C', 'Z');
        List<String> hit = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            assertThat(cancel(cancelPort, c.backendKeyData())).isEqualTo(Msg.EOF);
            List<Msg> reply = c.exchange(1, RawWireClient.query("select 'next " + i + "' || pg_sleep(0.01)"));
            if (!types(reply).equals(List.of('T', 'D', 'C', 'Z'))) {
                hit.add("statement " + i + ": " + reply);
                c.exchange(2, RawWireClient.query("rollback"), RawWireClient.query("begin"));
            }
        }
        assertThat(types(c.exchange(1, RawWireClient.query("commit")))).containsExactly('C', 'Z');
        return hit;
    }

    @Test
    @Timeout(60)
    void cancelForAnIdleClientIsAcceptedAndDoesNothing() throws Exception {
        try (RawWireClient idle = login(); RawWireClient busy = login(); Connection direct = Clients.direct(DB)) {
            CompletableFuture<List<Msg>> sleep = queryAsync(busy, "select 'busy ' || pg_sleep(1)");
            Clients.awaitActive(direct, USER, "select 'busy '");
            assertThat(cancel(port, idle.backendKeyData())).as("closed without a reply").isEqualTo(Msg.EOF);
            List<Msg> reply = sleep.get(10, TimeUnit.SECONDS);
            assertThat(types(reply)).containsExactly('T', 'D', 'C', 'Z');
            assertThat(RawWireClient.firstValue(reply)).isEqualTo("busy ");
            List<Msg> own = idle.exchange(1, RawWireClient.query("select 'idle works'"));
            assertThat(types(own)).as("no stray cancel waits for the idle client's next query")
                    .containsExactly('T', 'D', 'C', 'Z');
        }
    }

    @Test
    @Timeout(60)
    void protocol32ClientGetsA32ByteKeyThatCancelsAndAKeyOfAnotherLengthIsIgnored() throws Exception {
        try (RawWireClient a = login(RawWireClient.PROTOCOL_3_2); RawWireClient old = login();
                Connection direct = Clients.direct(DB)) {
            byte[] keyData = a.backendKeyData();
            assertThat(keyData).as("process id and a 32-byte key, as PostgreSQL 18 sends").hasSize(4 + 32);
            assertThat(old.backendKeyData()).as("protocol 3.0: a 4-byte key").hasSize(4 + 4);

            // the right process id with the first 4 bytes of the key, or the key and 4 more: not this client's key
            CompletableFuture<List<Msg>> sleep = queryAsync(a, "select 'slept ' || pg_sleep(1)");
            Clients.awaitActive(direct, USER, "select 'slept ");
            assertThat(cancel(port, Arrays.copyOf(keyData, 8))).isEqualTo(Msg.EOF);
            assertThat(cancel(port, Arrays.copyOf(keyData, 4 + 36))).isEqualTo(Msg.EOF);
            List<Msg> reply = sleep.get(10, TimeUnit.SECONDS);
            assertThat(types(reply)).as("not canceled").containsExactly('T', 'D', 'C', 'Z');

            // a 3.0 client's 4-byte key padded to 32 bytes is not its key either
            CompletableFuture<List<Msg>> oldSleep = queryAsync(old, "select 'old slept ' || pg_sleep(1)");
            Clients.awaitActive(direct, USER, "select 'old slept ");
            assertThat(cancel(port, Arrays.copyOf(old.backendKeyData(), 4 + 32))).isEqualTo(Msg.EOF);
            assertThat(types(oldSleep.get(10, TimeUnit.SECONDS))).as("not canceled")
                    .containsExactly('T', 'D', 'C', 'Z');

            // the full 32-byte key cancels
            CompletableFuture<List<Msg>> longSleep = queryAsync(a, "select pg_sleep(20)");
            Clients.awaitActive(direct, USER, "select pg_sleep(20)");
            long t0 = System.nanoTime();
            assertThat(cancel(port, keyData)).isEqualTo(Msg.EOF);
            List<Msg> canceled = longSleep.get(5, TimeUnit.SECONDS);
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds from cancel to error").isLessThan(1.0);
            assertThat(types(canceled)).containsExactly('T', 'E', 'Z');
            assertCanceled(canceled);
            assertThat(RawWireClient.firstValue(a.exchange(1, RawWireClient.query("select 'a works'")))).isEqualTo("a works");
        }
    }

    private Pool pool() {
        return server.pools().get(new PoolKey(DB, USER));
    }

    /** Waits up to 1 s for the pool's count of waiting clients to reach {@code n}, then returns it. */
    private int awaitWaiting(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (pool().stats().counts().waiting() != n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return pool().stats().counts().waiting();
    }

    /** A table md5_u may write to, empty. */
    private static void emptyTable() throws SQLException {
        Clients.directExec(DB, "create table if not exists waitcancel_rows (v text)",
                "grant select, insert, delete on waitcancel_rows to " + USER, "delete from waitcancel_rows");
    }

    /**
     * A client that disconnects while it waits for the backend leaves the wait queue at once (it stayed counted as
     * waiting until its query-wait-timeout), and its query never runs.
     */
    @Test
    @Timeout(60)
    void aClientLeavingWhileItWaitsLeavesTheQueueAtOnce() throws Exception {
        emptyTable();
        try (RawWireClient a = login()) {
            assertThat(types(a.exchange(1, RawWireClient.query("begin")))).containsExactly('C', 'Z');
            try (RawWireClient b = login()) {
                b.send(RawWireClient.query("insert into waitcancel_rows values ('left')"));
                assertThat(awaitWaiting(1)).as("B waits for the backend A holds").isEqualTo(1);
                b.drop();
            }
            assertThat(awaitWaiting(0)).as("clients waiting once B left").isZero();
            assertThat(types(a.exchange(1, RawWireClient.query("commit")))).containsExactly('C', 'Z');
            List<Msg> rows = a.exchange(1, RawWireClient.query("select count(*) from waitcancel_rows"));
            assertThat(RawWireClient.firstValue(rows)).as("B's INSERT never ran").isEqualTo("0");
        }
    }

    /**
     * B waits for the only backend, which A holds inside a transaction; B's cancel withdraws B's INSERT from the wait
     * queue and answers it as PostgreSQL answers a statement canceled as it starts, at once: B keeps its connection and
     * is served once A commits, and the INSERT never ran.
     */
    @Test
    @Timeout(60)
    void cancelOfAClientWaitingForABackendAnswers57014AtOnceAndItsQueryNeverRuns() throws Exception {
        emptyTable();
        try (RawWireClient a = login(); RawWireClient b = login()) {
            assertThat(types(a.exchange(1, RawWireClient.query("begin")))).containsExactly('C', 'Z');
            List<Msg> held = a.exchange(1, RawWireClient.query("select pg_backend_pid()"));
            assertThat(held.get(held.size() - 1)).isEqualTo(new Msg('Z', new byte[] {'T'}));
            String aPid = RawWireClient.firstValue(held);
            b.send(RawWireClient.query("insert into waitcancel_rows values ('canceled')"));
            assertThat(awaitWaiting(1)).as("B waits for the backend A holds").isEqualTo(1);

            long t0 = System.nanoTime();
            assertThat(cancel(port, b.backendKeyData())).as("closed without a reply").isEqualTo(Msg.EOF);
            List<Msg> reply = b.readUntilReady();
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds from cancel to answer").isLessThan(1.0);
            assertThat(reply).isEqualTo(CANCELED_WHILE_WAITING);
            assertThat(awaitWaiting(0)).as("clients waiting after the cancel").isZero();

            List<Msg> still = a.exchange(1, RawWireClient.query("select pg_backend_pid()"));
            assertThat(RawWireClient.firstValue(still)).as("A still in its transaction on its backend").isEqualTo(aPid);
            assertThat(still.get(still.size() - 1)).isEqualTo(new Msg('Z', new byte[] {'T'}));
            assertThat(types(a.exchange(1, RawWireClient.query("commit")))).containsExactly('C', 'Z');

            List<Msg> after = b.exchange(1, RawWireClient.query("select count(*) from waitcancel_rows"));
            assertThat(types(after)).as("B served after the cancel").containsExactly('T', 'D', 'C', 'Z');
            assertThat(RawWireClient.firstValue(after)).as("rows of the canceled INSERT").isEqualTo("0");
        }
    }

    /**
     * B waits with an extended-protocol INSERT whose Sync is not sent yet (Parse/Bind/Execute/Flush): the cancel gets
     * the error at once and, as PostgreSQL skips to the Sync after an error, B's further Bind/Execute are skipped
     * unanswered and its Sync gets ReadyForQuery 'I'. A Query pipelined after that Sync is a request of its own: it
     * still waits and is served once A commits. The INSERT never ran.
     */
    @Test
    @Timeout(60)
    void cancelOfAWaitingBatchWithoutItsSyncAnswersTheErrorThenSkipsToTheSync() throws Exception {
        emptyTable();
        try (RawWireClient a = login(); RawWireClient b = login()) {
            assertThat(types(a.exchange(1, RawWireClient.query("begin")))).containsExactly('C', 'Z');
            b.send(RawWireClient.parse("", "insert into waitcancel_rows values ('canceled')"), RawWireClient.bind(""),
                    RawWireClient.execute(), RawWireClient.message('H', new byte[0]));
            assertThat(awaitWaiting(1)).as("B waits for the backend A holds").isEqualTo(1);
            long t0 = System.nanoTime();
            assertThat(cancel(port, b.backendKeyData())).isEqualTo(Msg.EOF);
            assertThat(b.read()).isEqualTo(CANCELED_WHILE_WAITING.get(0));
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds from cancel to error").isLessThan(1.0);
            assertThat(awaitWaiting(0)).as("clients waiting after the cancel").isZero();

            b.send(RawWireClient.bind(""), RawWireClient.execute(), RawWireClient.sync(),
                    RawWireClient.query("select count(*) from waitcancel_rows"));
            assertThat(b.read()).as("the skipped batch's Sync").isEqualTo(new Msg('Z', new byte[] {'I'}));
            assertThat(awaitWaiting(1)).as("the pipelined query waits for A's backend").isEqualTo(1);
            assertThat(types(a.exchange(1, RawWireClient.query("commit")))).containsExactly('C', 'Z');
            List<Msg> after = b.readUntilReady();
            assertThat(types(after)).containsExactly('T', 'D', 'C', 'Z');
            assertThat(RawWireClient.firstValue(after)).as("rows of the canceled INSERT").isEqualTo("0");
        }
    }

    /** Two Queries pipelined by a waiting client: the cancel stops the first only, as on PostgreSQL; the second runs. */
    @Test
    @Timeout(60)
    void cancelOfAWaitingClientStopsOnlyItsFirstPipelinedQuery() throws Exception {
        emptyTable();
        try (RawWireClient a = login(); RawWireClient b = login()) {
            assertThat(types(a.exchange(1, RawWireClient.query("begin")))).containsExactly('C', 'Z');
            b.send(RawWireClient.query("insert into waitcancel_rows values ('canceled')"),
                    RawWireClient.query("insert into waitcancel_rows values ('second')"));
            assertThat(awaitWaiting(1)).as("B waits for the backend A holds").isEqualTo(1);
            assertThat(cancel(port, b.backendKeyData())).isEqualTo(Msg.EOF);
            assertThat(b.readUntilReady()).isEqualTo(CANCELED_WHILE_WAITING);
            assertThat(awaitWaiting(1)).as("the second query waits for A's backend").isEqualTo(1);
            assertThat(types(a.exchange(1, RawWireClient.query("commit")))).containsExactly('C', 'Z');
            assertThat(types(b.readUntilReady())).as("the second query runs").containsExactly('C', 'Z');
            List<Msg> rows = b.exchange(1, RawWireClient.query("select string_agg(v, ',') from waitcancel_rows"));
            assertThat(RawWireClient.firstValue(rows)).isEqualTo("second");
        }
    }

    /**
     * pgjdbc's Statement.cancel() of a prepared INSERT (Parse/Bind/Describe/Execute/Sync) waiting for the backend A
     * holds: SQLException 57014 within 1 s, nothing inserted, and B's connection goes on working.
     */
    @Test
    @Timeout(60)
    void pgjdbcCancelOfAWaitingPreparedStatementFailsItWith57014AndTheConnectionKeepsWorking() throws Exception {
        emptyTable();
        try (Connection a = Clients.proxy(port, USER, DB); Connection b = Clients.proxy(port, USER, DB);
                PreparedStatement insert = b.prepareStatement("insert into waitcancel_rows values (?)")) {
            a.setAutoCommit(false);
            one(a, "select 1"); // holds the only backend inside a transaction
            insert.setString(1, "canceled");
            CompletableFuture<Throwable> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    insert.executeUpdate();
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            }, threads);
            assertThat(awaitWaiting(1)).as("B waits for the backend A holds").isEqualTo(1);
            long t0 = System.nanoTime();
            insert.cancel();
            Throwable error = waiting.get(5, TimeUnit.SECONDS);
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds from cancel to error").isLessThan(1.0);
            assertThat(error).isInstanceOf(PSQLException.class);
            var e = ((PSQLException) error).getServerErrorMessage();
            assertThat(e.getSQLState()).isEqualTo("57014");
            assertThat(e.getSeverity()).isEqualTo("ERROR");
            assertThat(e.getMessage()).isEqualTo(CANCELED);
            assertThat(awaitWaiting(0)).as("clients waiting after the cancel").isZero();
            a.commit();
            assertThat(one(b, "select count(*) from waitcancel_rows")).as("rows of the canceled INSERT").isEqualTo("0");
            insert.setString(1, "after");
            assertThat(insert.executeUpdate()).as("the same prepared statement runs now").isEqualTo(1);
            assertThat(one(b, "select string_agg(v, ',') from waitcancel_rows")).isEqualTo("after");
        }
    }

    /**
     * The lease race: B's query waits for A's 3 ms one to end while B's cancel arrives at a random moment around it,
     * 100 times. B's query is either canceled (57014, then ReadyForQuery 'I') or answered in full, never both, never
     * hangs, and B's next query is answered normally; nobody is left waiting.
     */
    @Test
    @Timeout(120)
    void cancelRacingTheLeaseEitherCancelsTheWaitingQueryOrLetsItCompleteNeverBoth() throws Exception {
        int iterations = 100;
        int canceled = 0;
        int completed = 0;
        try (RawWireClient a = login(); RawWireClient b = login()) {
            a.timeout(5_000);
            b.timeout(5_000);
            for (int i = 0; i < iterations; i++) {
                a.send(RawWireClient.query("select 'a ' || pg_sleep(0.003)"));
                b.send(RawWireClient.query("select 'b " + i + "'"));
                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(TimeUnit.MILLISECONDS.toNanos(6)));
                assertThat(cancel(port, b.backendKeyData())).isEqualTo(Msg.EOF);
                List<Msg> bReply = b.readUntilReady();
                List<Character> t = types(bReply);
                if (t.equals(List.of('T', 'D', 'C', 'Z'))) {
                    assertThat(RawWireClient.firstValue(bReply)).isEqualTo("b " + i);
                    completed++;
                } else if (bReply.equals(CANCELED_WHILE_WAITING)) {
                    canceled++;
                } else {
                    // the cancel reached the server while B's query ran there
                    assertThat(t).as("B's reply %d: %s", i, bReply).isIn(List.of('E', 'Z'), List.of('T', 'E', 'Z'));
                    assertCanceled(bReply);
                    canceled++;
                }
                List<Msg> aReply = a.readUntilReady();
                assertThat(types(aReply)).as("A's reply %d", i).containsExactly('T', 'D', 'C', 'Z');
                List<Msg> next = b.exchange(1, RawWireClient.query("select 'b next " + i + "'"));
                assertThat(types(next)).as("B's next query %d: %s", i, next).containsExactly('T', 'D', 'C', 'Z');
                assertThat(RawWireClient.firstValue(next)).isEqualTo("b next " + i);
            }
            System.out.printf("lease race: %d of %d waiting queries canceled, %d completed%n", canceled, iterations,
                    completed);
            assertThat(canceled + completed).isEqualTo(iterations);
            assertThat(awaitWaiting(0)).as("clients waiting after the race").isZero();
        }
    }
}
