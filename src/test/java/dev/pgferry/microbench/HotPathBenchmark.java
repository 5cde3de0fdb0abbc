package dev.pgferry.microbench;

import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.session.SessionParameters;
import dev.pgferry.session.StatementInspector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What pgferry does per message on the relay path, without I/O: frame a read batch (a pgbench -S
 * transaction's responses), inspect a Query's SQL for session state, and decide whether a lease needs a
 * parameter restore. Run with {@code bench/jmh.sh} (add {@code -prof gc} to see allocation per operation:
 * the hot path should allocate nothing).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HotPathBenchmark {
    private ByteBuf responses;
    /** Frames {@link #responses} as the response relay frames a backend's reads. */
    private MessageFrameDecoder responseFrames;
    private ByteBuf query;
    private int sqlEnd;
    private ByteBuf parse;
    private SessionParameters params;
    private Map<String, String> backendReported;
    private final Map<String, String> backendUnreported = new HashMap<>();

    @Setup(Level.Trial)
    public void setUp() {
        responses = PooledByteBufAllocator.DEFAULT.directBuffer(512);
        // RowDescription, DataRow, CommandComplete, ReadyForQuery: one pgbench -S answer
        byte[] name = "abalance\0".getBytes(StandardCharsets.US_ASCII);
        responses.writeByte('T').writeInt(4 + 2 + name.length + 18).writeShort(1).writeBytes(name)
                .writeInt(0).writeShort(0).writeInt(23).writeShort(4).writeInt(-1).writeShort(0);
        responses.writeByte('D').writeInt(4 + 2 + 4 + 4).writeShort(1).writeInt(4).writeBytes("1234".getBytes());
        byte[] tag = "SELECT 1\0".getBytes(StandardCharsets.US_ASCII);
        responses.writeByte('C').writeInt(4 + tag.length).writeBytes(tag);
        responses.writeByte('Z').writeInt(5).writeByte('I');
        responseFrames = new MessageFrameDecoder(Integer.MAX_VALUE - 1);
        responseFrames.append(PooledByteBufAllocator.DEFAULT, responses);
        byte[] sql = "SELECT abalance FROM pgbench_accounts WHERE aid = 48172;\0".getBytes(StandardCharsets.US_ASCII);
        query = PooledByteBufAllocator.DEFAULT.directBuffer(128);
        query.writeByte('Q').writeInt(4 + sql.length).writeBytes(sql);
        sqlEnd = query.writerIndex();
        byte[] body = "SELECT abalance FROM pgbench_accounts WHERE aid = $1;\0\0\0".getBytes(StandardCharsets.US_ASCII);
        parse = PooledByteBufAllocator.DEFAULT.directBuffer(128);
        parse.writeByte('P').writeInt(4 + 1 + body.length).writeByte(0).writeBytes(body);
        Map<String, String> defaults = Map.of("application_name", "", "DateStyle", "ISO, MDY", "TimeZone", "UTC",
                "client_encoding", "UTF8", "server_version", "15.18", "integer_datetimes", "on",
                "standard_conforming_strings", "on", "IntervalStyle", "postgres", "is_superuser", "on");
        params = new SessionParameters(defaults, Map.of("application_name", "pgbench"));
        backendReported = new HashMap<>(defaults);
        backendReported.put("application_name", "pgbench");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        responseFrames.release(); // and responses with it
        query.release();
        parse.release();
    }

    /** Frames one read batch as the relay does: length checks and type bytes, no copies. */
    @Benchmark
    public int frameResponseBatch() throws ProtocolException {
        ByteBuf in = responseFrames.buffer();
        int start = in.readerIndex();
        int frames = 0;
        while (responseFrames.next() != FrameDecoder.NEED_MORE) {
            frames += in.getByte(in.readerIndex());
            responseFrames.skipFrame();
        }
        in.readerIndex(start);
        return frames;
    }

    /** The lexer over a pgbench -S Query: finds nothing, allocates nothing. */
    @Benchmark
    public Object inspectSelect() {
        return StatementInspector.inspect(query, 5, sqlEnd);
    }

    /** A pgbench -M extended Parse seen before: a cache hit, no lexer pass, nothing allocated. */
    @Benchmark
    public Object inspectParseSeenBefore() {
        return StatementInspector.inspectShared(parse, 6, parse.writerIndex());
    }

    /** The per-lease parameter check when the backend already has the client's parameters. */
    @Benchmark
    public boolean leaseNeedsRestore() {
        return params.needsRestore(backendReported, backendUnreported);
    }

    /** The per-lease check after the first one: one signature lookup (cached) and a reference comparison. */
    @Benchmark
    public Object leaseSignature() {
        return params.signature();
    }
}
