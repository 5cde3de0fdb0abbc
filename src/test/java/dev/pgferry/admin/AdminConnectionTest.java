package dev.pgferry.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.Pools;
import dev.pgferry.session.SessionContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The console's wire handling on an EmbeddedChannel: split input, errors that keep the connection, endings. */
class AdminConnectionTest {
    /** pgferry's configuration with every default, built by SmallRye Config outside Quarkus. */
    private static final PgferryConfig DEFAULTS = new SmallRyeConfigBuilder().withMapping(PgferryConfig.class)
            .withConverter(java.time.Duration.class, 100, new DurationConverter()) // "10s", as Quarkus reads it
            .build().getConfigMapping(PgferryConfig.class);

    private final SessionContext sc = new SessionContext(DEFAULTS, new Pools(k -> null), u -> Optional.empty(),
            new SecureRandom(), (c, done) -> done.run());
    private final EmbeddedChannel ch = new EmbeddedChannel(new AdminConnection(new AdminConsole(sc), "C-test", 1 << 20));

    @AfterEach
    void releaseEverything() {
        ch.finishAndReleaseAll();
    }

    private static ByteBuf query(String sql) {
        byte[] s = sql.getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer().writeByte('Q').writeInt(4 + s.length + 1).writeBytes(s).writeByte(0);
    }

    private static ByteBuf message(char type) {
        return Unpooled.buffer().writeByte(type).writeInt(4);
    }

    /** Feeds one byte per read. */
    private void writeByteByByte(ByteBuf in) {
        while (in.isReadable()) {
            ch.writeInbound(in.readRetainedSlice(1));
        }
        in.release();
    }

    /** Message types answered until a ReadyForQuery, running the loop's tasks while the worker computes. */
    private List<String> answerUntilReady() throws InterruptedException {
        List<String> types = new ArrayList<>();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            ch.runPendingTasks();
            ByteBuf out;
            while ((out = ch.readOutbound()) != null) {
                while (out.isReadable()) {
                    byte t = out.readByte();
                    int len = out.readInt();
                    String field = t == 'E' ? " " + sqlState(out.slice(out.readerIndex(), len - 4)) : "";
                    out.skipBytes(len - 4);
                    types.add((char) t + field);
                }
                out.release();
                if (types.get(types.size() - 1).equals("Z")) {
                    return types;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no ReadyForQuery; got " + types);
    }

    private static String sqlState(ByteBuf fields) {
        while (fields.isReadable()) {
            byte code = fields.readByte();
            if (code == 0) {
                break;
            }
            int end = fields.bytesBefore((byte) 0);
            String value = fields.readCharSequence(end, StandardCharsets.UTF_8).toString();
            fields.skipBytes(1);
            if (code == 'C') {
                return value;
            }
        }
        return "?";
    }

    @Test
    void aQueryArrivingByteByByteIsAnsweredWithRowsAndReadyForQuery() throws Exception {
        writeByteByByte(query("show version"));
        assertThat(answerUntilReady()).containsExactly("T", "D", "C", "Z");
    }

    @Test
    void unknownCommandIsAnErrorAndTheNextQueryIsServed() throws Exception {
        ByteBuf both = Unpooled.buffer();
        both.writeBytes(query("FROBNICATE"));
        both.writeBytes(query("SHOW VERSION"));
        ch.writeInbound(both);
        assertThat(answerUntilReady()).containsExactly("E 42601", "Z");
        assertThat(answerUntilReady()).containsExactly("T", "D", "C", "Z");
    }

    @Test
    void severalStatementsInOneQueryStopAtTheFirstError() throws Exception {
        ch.writeInbound(query("SHOW VERSION; NOPE; SHOW VERSION"));
        assertThat(answerUntilReady()).containsExactly("T", "D", "C", "E 42601", "Z");
    }

    @Test
    void anEmptyQueryGetsEmptyQueryResponse() throws Exception {
        ch.writeInbound(query(" ; "));
        assertThat(answerUntilReady()).containsExactly("I", "Z");
    }

    @Test
    void extendedProtocolIsRefusedOnceUpToItsSync() throws Exception {
        ByteBuf batch = Unpooled.buffer();
        for (char t : new char[] {'P', 'B', 'D', 'E', 'S'}) {
            batch.writeBytes(message(t));
        }
        ch.writeInbound(batch);
        assertThat(answerUntilReady()).containsExactly("E 0A000", "Z");
    }

    @Test
    void aBadLengthIsFatalAndCloses() throws Exception {
        ch.writeInbound(Unpooled.buffer().writeByte('Q').writeInt(2));
        ch.runPendingTasks();
        ByteBuf out = ch.readOutbound();
        assertThat((char) out.getByte(0)).isEqualTo('E');
        out.release();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void terminateCloses() {
        ch.writeInbound(message('X'));
        assertThat(ch.isOpen()).isFalse();
    }
}
