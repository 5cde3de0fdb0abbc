package dev.pgferry.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which notifications read ahead of a LISTEN's commit the client gets: those read after the committing request. */
class PendingListensTest {
    private static ByteBuf notification(String channel, String payload) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('A').writeInt(0).writeInt(42);
        b.writeCharSequence(channel, StandardCharsets.UTF_8);
        b.writeByte(0);
        b.writeCharSequence(payload, StandardCharsets.UTF_8);
        b.writeByte(0);
        b.setInt(1, b.writerIndex() - 1);
        return b;
    }

    private static List<String> payloads(List<ByteBuf> ms) {
        return ms.stream().map(m -> {
            String s = m.toString(9, m.readableBytes() - 9, StandardCharsets.UTF_8); // after type, length, pid
            m.release();
            return s.substring(s.indexOf('\0') + 1, s.length() - 1);
        }).toList();
    }

    @Test
    void onlyWhatWasReadAfterTheCommittingRequestWasSentIsDelivered() {
        PendingListens p = new PendingListens();
        p.add(List.of("ch"), 3); // BEGIN was request 2; the LISTEN goes in request 3
        assertThat(p.reached(2)).as("a request ahead of the LISTEN ended").isFalse();
        assertThat(p.reached(3)).isTrue();
        ByteBuf during = notification("ch", "during");
        ByteBuf afterCommit = notification("ch", "after commit");
        ByteBuf other = notification("other", "x");
        assertThat(p.hold(during, 3, 10)).isTrue(); // read while request 3 (LISTEN) ran
        p.transactionEnded(2); // an earlier transaction: not the LISTEN's
        p.transactionEnded(5); // COMMIT was request 5
        assertThat(p.hold(afterCommit, 5, 10)).isTrue();
        assertThat(p.hold(other, 5, 10)).isTrue();
        assertThat(payloads(p.settle(Set.of("ch")))).containsExactly("after commit");
        assertThat(during.refCnt()).isZero();
        assertThat(other.refCnt()).isZero();
        assertThat(p.isEmpty()).isTrue();
    }

    @Test
    void aRollbackLeavesNothingAndTheBoundIsKept() {
        PendingListens p = new PendingListens();
        p.add(List.of("ch"), 1);
        ByteBuf a = notification("ch", "a");
        assertThat(p.hold(a, 1, 1)).isTrue();
        ByteBuf b = notification("ch", "b");
        assertThat(p.hold(b, 1, 1)).isFalse();
        b.release();
        p.clear();
        assertThat(a.refCnt()).isZero();
        assertThat(p.isEmpty()).isTrue();
    }

    @Test
    void aChannelNotCommittedGetsNothing() {
        PendingListens p = new PendingListens();
        p.add(List.of("ch", "gone"), 1);
        p.transactionEnded(1);
        ByteBuf m = notification("gone", "x");
        p.hold(m, 1, 10);
        assertThat(p.settle(Set.of("ch"))).isEmpty();
        assertThat(m.refCnt()).isZero();
    }
}
