package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.session.StatementInspector.Findings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A text seen before is not scanned again, and what the cache gives back is exactly what a fresh inspection finds
 * ({@link StatementInspectorTest} checks that for each of its inputs, through {@link #assertCachedEqualsFresh}).
 */
class InspectionCacheTest {

    /** Fresh findings against the cached paths, on a miss and on hits, with the text inside a larger message. */
    static void assertCachedEqualsFresh(String sql) {
        String fresh = describe(StatementInspector.inspectFresh(sql));
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        // as in a Parse: a header before the text, and bytes after it outside the range
        ByteBuf msg = Unpooled.buffer().writeBytes("P\0\0\0\0".getBytes(StandardCharsets.US_ASCII)).writeBytes(text)
                .writeBytes(new byte[] {'E', '\'', 'x'});
        for (int round = 0; round < 3; round++) {
            assertThat(describe(StatementInspector.inspectShared(msg, 5, 5 + text.length)))
                    .as("shared, round %d: %s", round, sql).isEqualTo(fresh);
            assertThat(describe(StatementInspector.inspect(msg, 5, 5 + text.length)))
                    .as("owned, round %d: %s", round, sql).isEqualTo(fresh);
        }
    }

    /** Every field of the findings and of their links. */
    static String describe(Findings f) {
        StringBuilder s = new StringBuilder();
        for (; f != null; f = f.next) {
            s.append("{pin=").append(f.pinReason).append(" touched=").append(f.touched).append(" reset=")
                    .append(f.resetNames).append(" resetAll=").append(f.resetAll).append(" setAfter=")
                    .append(f.setAfterResetAll).append(" drops=").append(f.dropsPrepared).append(" loads=")
                    .append(f.loadsLibrary).append(" endedBy=").append(f.endedBy).append('}');
        }
        return s.length() == 0 ? "null" : s.toString();
    }

    private static ByteBuf buf(String sql) {
        return Unpooled.wrappedBuffer(sql.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aSharedResultIsTheSameInstanceForTheSameText() {
        ByteBuf a = buf("SET search_path = cache_test_a");
        Findings first = StatementInspector.inspectShared(a, 0, a.writerIndex());
        ByteBuf again = buf("SET search_path = cache_test_a");
        assertThat(StatementInspector.inspectShared(again, 0, again.writerIndex())).isSameAs(first);
        assertThat(first.touched).containsExactly("search_path");
    }

    @Test
    void anOwnedResultIsNeverTheCachedOne() {
        ByteBuf a = buf("SET search_path = cache_test_b");
        Findings shared = StatementInspector.inspectShared(a, 0, a.writerIndex());
        Findings owned = StatementInspector.inspect(a, 0, a.writerIndex());
        Findings owned2 = StatementInspector.inspect(a, 0, a.writerIndex());
        assertThat(owned).isNotSameAs(shared).isNotSameAs(owned2);
        owned.resetAll(); // the owner merges into its own: the cached findings stay as found
        assertThat(describe(StatementInspector.inspectShared(a, 0, a.writerIndex())))
                .isEqualTo(describe(StatementInspector.inspectFresh("SET search_path = cache_test_b")));
    }

    @Test
    void textsThatDifferInOneByteDoNotShare() {
        assertCachedEqualsFresh("SELECT abalance FROM pgbench_accounts WHERE aid = $1;");
        assertCachedEqualsFresh("SELECT abalance FROM pgbench_accounts WHERE aid = $1; LISTEN x");
        ByteBuf listen = buf("LISTEN cache_c");
        ByteBuf notify = buf("NOTIFY cache_c");
        assertThat(StatementInspector.inspectShared(listen, 0, listen.writerIndex()).listenOps).containsExactly("+cache_c");
        assertThat(StatementInspector.inspectShared(notify, 0, notify.writerIndex())).isNull();
        assertThat(StatementInspector.inspectShared(listen, 0, listen.writerIndex()).listenOps).containsExactly("+cache_c");
    }

    @Test
    void theRangeIsTheKeyNotTheBufferAroundIt() {
        ByteBuf m = buf("xxLISTEN cache_dyyLISTEN cache_d");
        Findings a = StatementInspector.inspectShared(m, 2, 16);
        Findings b = StatementInspector.inspectShared(m, 18, 32);
        assertThat(b).isSameAs(a);
        assertThat(StatementInspector.inspectShared(m, 0, 16)).isNull(); // "xxLISTEN cache_d": one word, not LISTEN
    }

    @Test
    void longTextsAreInspectedEveryTimeAndStillRight() {
        String sql = "SELECT '" + "x".repeat(10_000) + "'; LISTEN cache_e";
        assertCachedEqualsFresh(sql);
        assertThat(StatementInspector.inspect(sql).listenOps).containsExactly("+cache_e");
    }
}
