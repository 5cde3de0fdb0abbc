package dev.pgferry.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.server.ProxyServer;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient.Msg;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Random and mutated typed messages after a valid login, over a raw socket into the live pgferry. Every connection
 * must end in a normal reply (a ReadyForQuery, then silence: the
 * frames are followed by Sync and a query), an ErrorResponse, or a clean close — never a
 * hang, never garbage — and pgferry must keep serving a normal client.
 *
 * <p>The inputs come from jqwik arbitraries drawn with {@code sampleStream()} from a seeded source of randomness (a {@code @Property} would run under
 * the jqwik engine, outside the Quarkus test extension, with no pgferry to talk to). A failure prints its seed, try
 * and input in hex. {@code -Drobust.fuzz.tries=N} (default 200) and {@code -Drobust.fuzz.seed=S} set the run.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(HostileProfile.class)
class WireFuzzTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String MARKER = "fuzz-end";

    @Inject
    ProxyServer server;

    /** One frame: its type, body, and the length to declare (null: the true one). */
    record Frame(byte type, byte[] body, Integer declared) {
        byte[] bytes() {
            byte[] a = RawWireClient.message(type, body);
            if (declared != null) {
                RawWireClient.setInt(a, 1, declared);
            }
            return a;
        }
    }

    static final List<String> SQL = List.of("select 1", "begin", "commit", "rollback", "select 1/0",
            "set application_name = 'fz'", "reset all", "listen fz", "select repeat('x', 70000)",
            "begin; select 1; commit", "select pg_backend_pid()", "discard all", "prepare p as select 1",
            "deallocate all", "show all", "", ";;", "select $1", "savepoint s", "set local work_mem = '1MB'");

    static Arbitrary<byte[]> randomBytes(int max) {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(max);
    }

    static Arbitrary<Frame> frames() {
        Arbitrary<Byte> type = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(12, Arbitraries.of((byte) 'Q', (byte) 'P', (byte) 'B', (byte) 'E', (byte) 'D',
                        (byte) 'C', (byte) 'S', (byte) 'H', (byte) 'F', (byte) 'd', (byte) 'c', (byte) 'f')),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes()));
        Arbitrary<byte[]> sqlBody = Arbitraries.of(SQL).map(RawWireClient::cstring);
        Arbitrary<byte[]> parseBody = Combinators.combine(Arbitraries.of("", "s1", "s2"), Arbitraries.of(SQL))
                .as((n, q) -> {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    b.writeBytes(RawWireClient.cstring(n));
                    b.writeBytes(RawWireClient.cstring(q));
                    b.write(0);
                    b.write(0);
                    return b.toByteArray();
                });
        Arbitrary<Integer> badLength = Arbitraries.of(-1, 0, 3, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x40000004,
                64 * 1024 * 1024 + 1);
        return type.flatMap(t -> {
            Arbitrary<byte[]> body = switch (t) {
                case 'Q' -> Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, sqlBody),
                        net.jqwik.api.Tuple.of(1, randomBytes(40)));
                case 'P' -> Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, parseBody),
                        net.jqwik.api.Tuple.of(1, randomBytes(40)));
                case 'S', 'H', 'c' -> Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, Arbitraries.just(new byte[0])),
                        net.jqwik.api.Tuple.of(1, randomBytes(8)));
                default -> randomBytes(40);
            };
            Arbitrary<Integer> declared = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(20, Arbitraries.just(null)),
                    net.jqwik.api.Tuple.of(1, badLength));
            return Combinators.combine(body, declared).as((b, d) -> new Frame(t, b, d));
        });
    }

    static Arbitrary<List<Frame>> cases() {
        return frames().list().ofMinSize(1).ofMaxSize(8);
    }

    enum Outcome { REPLY, ERROR_THEN_CLOSE, CLOSE }

    /** Sends the frames, then Sync and a marker query; classifies how the connection ends. */
    Outcome drive(List<Frame> frames, StringBuilder log) throws IOException {
        try (RawWireClient w = Clients.login(port, "postgres")) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            boolean invalidLength = false;
            for (Frame f : frames) {
                all.writeBytes(f.bytes());
                if (f.declared() != null) {
                    invalidLength = true;
                    break; // nothing after a bad length can be framed
                }
            }
            if (!invalidLength) {
                all.writeBytes(RawWireClient.message('S', new byte[0]));
                all.writeBytes(RawWireClient.query("select '" + MARKER + "'"));
            }
            log.append("sent ").append(HexFormat.of().formatHex(all.toByteArray())).append('\n');
            w.timeout(10_000);
            try {
                w.send(all.toByteArray());
            } catch (IOException e) {
                log.append("write failed: ").append(e).append('\n');
            }
            boolean error = false;
            int lastType = 0;
            while (true) {
                Msg m;
                try {
                    m = w.read();
                } catch (SocketTimeoutException e) {
                    if (lastType == 'Z') {
                        // the last thing sent is a Query: its ReadyForQuery, then silence, is a normal end
                        return Outcome.REPLY;
                    }
                    throw new AssertionError("no reply, error or close within 10 s\n" + log);
                }
                log.append(m).append(' ');
                if (m.type() == -1) {
                    return error ? Outcome.ERROR_THEN_CLOSE : Outcome.CLOSE;
                }
                if (m.type() == 'E') {
                    error = true;
                    if (invalidLength) {
                        assertThat(m.field('C')).as("a bad length gets 08P01\n%s", log).isEqualTo("08P01");
                    }
                }
                assertThat("RTSKZECDINsn1t23AGHWcdf").as("message type from the server\n%s", log)
                        .contains(String.valueOf((char) m.type()));
                lastType = m.type();
                // after a ReadyForQuery, a short silence ends it; otherwise wait up to 10 s for more
                w.timeout(lastType == 'Z' ? 300 : 10_000);
            }
        }
    }

    @Test
    void randomFramesAfterLoginEndInAReplyAnErrorOrACleanCloseAndPgferryKeepsServing() throws Exception {
        int tries = Integer.getInteger("robust.fuzz.tries", 200);
        long seed = Long.getLong("robust.fuzz.seed", System.nanoTime());
        // sampleStream() works outside the jqwik engine and draws from the thread's SourceOfRandomness
        net.jqwik.engine.SourceOfRandomness.create(Long.toString(seed));
        java.util.Iterator<List<Frame>> gen = cases().sampleStream().iterator();
        int[] outcomes = new int[Outcome.values().length];
        long t0 = System.nanoTime();
        Pool pool = server.pools().get(new PoolKey("postgres", "postgres"));
        try (Connection normal = Clients.jdbc(port, "postgres"); Statement st = normal.createStatement()) {
            for (int i = 0; i < tries; i++) {
                List<Frame> frames = gen.next();
                StringBuilder log = new StringBuilder("seed " + seed + " try " + i + ": ");
                Outcome o;
                try {
                    o = drive(frames, log);
                } catch (AssertionError | IOException e) {
                    throw new AssertionError(e.getMessage() + "\n" + log, e);
                }
                outcomes[o.ordinal()]++;
                // the fuzz client is gone: whatever backend it held must be back in the pool (or closed) soon
                long until = System.nanoTime() + 3_000_000_000L;
                while (pool.stats().counts().active() > 0 && System.nanoTime() < until) {
                    Thread.sleep(10);
                }
                assertThat(pool.stats().counts().active()).as("backends still leased after the fuzz client left: %s", log)
                        .isZero();
                try (ResultSet rs = st.executeQuery("select " + i)) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("the normal client after %s", log).isEqualTo(i);
                } catch (java.sql.SQLException e) {
                    throw new AssertionError("the normal client failed after " + log, e);
                }
            }
        }
        System.out.printf("wire fuzz: %d tries in %.1f s, seed %d: %d replies, %d errors then close, %d clean closes%n",
                tries, (System.nanoTime() - t0) / 1e9, seed, outcomes[0], outcomes[1], outcomes[2]);
        // nothing stays leased by the closed fuzz connections
        long until = System.nanoTime() + 5_000_000_000L;
        while (pool.stats().counts().active() > 0 && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        assertThat(pool.stats().counts().active()).as("backends still leased after every fuzz client left").isZero();
        try (Connection fresh = Clients.jdbc(port, "postgres"); Statement st = fresh.createStatement();
                ResultSet rs = st.executeQuery("select 42")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(42);
        }
    }

    /**
     * Found by the fuzz run above (seed 10471729317199, try 90): DISCARD ALL, then a Query with a 70 000-byte result,
     * a Sync and one more Query, in one write. pgferry answered the DISCARD ALL (CommandComplete, the restored
     * ParameterStatus, ReadyForQuery) and then nothing: the large result never came and the backend stayed leased.
     * Relaying the result filled the client's buffer, which paused reading from the backend; the transaction's end
     * then ran pgferry's own query (putting the startup parameters back) on that backend, whose answer was never
     * read. RESET ALL does the same, and a RESET inside a transaction (its startup value is set at once).
     */
    @Test
    void aLargeResultAfterAResetIsAnsweredInFull() throws Exception {
        String large = "select repeat('x', 70000)";
        String[][] cases = {{"discard all", large}, {"reset all", large}, {"reset application_name", large},
            {"begin", "reset application_name; " + large}, {"begin", large + "; reset application_name"}};
        for (String[] c : cases) {
            for (int round = 0; round < 3; round++) {
                try (RawWireClient w = Clients.login(port, "postgres")) {
                    w.timeout(5000);
                    w.send(RawWireClient.query(c[0]), RawWireClient.query(c[1]), RawWireClient.sync(),
                            RawWireClient.query("select '" + MARKER + "'"));
                    String what = String.join(" | ", c) + " round " + round;
                    try {
                        assertThat(w.readUntilReady()).as(what).extracting(Msg::type).contains((int) 'C');
                        assertThat(w.readUntilReady()).as("the large result of " + what)
                                .anyMatch(m -> m.type() == 'D' && m.body().length > 70_000);
                        assertThat(w.readUntilReady()).as("the Sync's ReadyForQuery after " + what)
                                .extracting(Msg::type).containsExactly((int) 'Z');
                        assertThat(RawWireClient.firstValue(w.readUntilReady())).as(what).isEqualTo(MARKER);
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError("no complete answer within 5 s to " + what, e);
                    }
                }
            }
        }
    }

    /**
     * Found by the fuzz run above (seed 2868532984076, try 657): a Flush with a body is invalid to PostgreSQL, which
     * answers ErrorResponse 08P01 and then ignores everything up to the next Sync. pgferry does not count Flush as
     * expecting an answer, so when that client is closed right after (here: a frame with length 0), the backend goes
     * back to the pool as clean while its error is still on the way, and it still ignores everything until Sync. The
     * next client to lease it in that window gets the stale error, or no answer to its Query at all.
     */
    @Test
    void aBackendLeftWaitingForSyncByAMalformedFlushIsNeverHandedToTheNextClient() throws Exception {
        byte[] poison = new byte[] {'H', 0, 0, 0, 5, (byte) 0x80, 'F', 0, 0, 0, 0};
        List<String> failures = new ArrayList<>();
        List<RawWireClient> next = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                next.add(Clients.login(port, "postgres")); // on both event loops
            }
            for (int round = 0; round < 30 && failures.isEmpty(); round++) {
                try (RawWireClient a = Clients.login(port, "postgres")) {
                    a.timeout(5000);
                    a.send(poison);
                    Msg m = a.read();
                    assertThat(m.field('C')).as("%s", m).isEqualTo("08P01");
                    assertThat(a.read()).isEqualTo(Msg.EOF);
                }
                for (RawWireClient b : next) {
                    b.send(RawWireClient.query("select " + round));
                }
                for (int k = 0; k < next.size(); k++) {
                    RawWireClient b = next.get(k);
                    b.timeout(5000);
                    try {
                        List<Msg> reply = b.readUntilReady();
                        if (reply.stream().anyMatch(x -> x.type() == 'E' || x.type() == -1)
                                || reply.stream().noneMatch(x -> x.type() == 'D')) {
                            failures.add("round " + round + " client " + k + " got " + reply);
                        }
                    } catch (SocketTimeoutException e) {
                        failures.add("round " + round + " client " + k + ": no answer to select within 5 s");
                    }
                }
            }
        } finally {
            next.forEach(RawWireClient::close);
        }
        assertThat(failures).as("clients served by a backend another client left expecting a Sync").isEmpty();
    }
}
