package dev.pgferry.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class NotificationQueueTest {
    private static ByteBuf message(int n) {
        return Unpooled.buffer(4).writeInt(n);
    }

    @Test
    void keepsOrderUpToItsBoundAndRefusesPastIt() {
        NotificationQueue q = new NotificationQueue(3);
        assertThat(q.offer(message(1))).isTrue();
        assertThat(q.offer(message(2))).isTrue();
        assertThat(q.offer(message(3))).isTrue();
        ByteBuf fourth = message(4);
        assertThat(q.offer(fourth)).isFalse();
        assertThat(fourth.refCnt()).as("a refused message is released").isZero();
        assertThat(q.size()).isEqualTo(3);
        for (int n = 1; n <= 3; n++) {
            ByteBuf m = q.poll();
            assertThat(m.getInt(0)).isEqualTo(n);
            m.release();
        }
        assertThat(q.poll()).isNull();
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void clearReleasesWhatItHolds() {
        NotificationQueue q = new NotificationQueue(10);
        ByteBuf a = message(1);
        ByteBuf b = message(2);
        q.offer(a);
        q.offer(b);
        q.clear();
        assertThat(a.refCnt()).isZero();
        assertThat(b.refCnt()).isZero();
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void aBoundBelowOneIsOne() {
        NotificationQueue q = new NotificationQueue(0);
        assertThat(q.offer(message(1))).isTrue();
        assertThat(q.offer(message(2))).isFalse();
        q.clear();
    }
}
