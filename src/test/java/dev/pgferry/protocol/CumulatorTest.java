package dev.pgferry.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** Ownership rules of the read accumulator: every buffer handed in is released exactly once. */
class CumulatorTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private static ByteBuf bytes(int... values) {
        ByteBuf b = ALLOC.buffer(values.length);
        for (int v : values) {
            b.writeByte(v);
        }
        return b;
    }

    @Test
    void firstReadIsUsedAsIsWithoutCopy() {
        ByteBuf in = bytes(1, 2, 3);
        ByteBuf acc = Cumulator.append(ALLOC, null, in);
        assertThat(acc).isSameAs(in);
        assertThat(in.refCnt()).isEqualTo(1);
        acc.release();
    }

    @Test
    void appendsIntoTheAccumulatorWhenThereIsRoomAndReleasesTheInput() {
        ByteBuf acc = ALLOC.buffer(64).writeBytes(new byte[] {1, 2});
        ByteBuf in = bytes(3, 4);
        ByteBuf out = Cumulator.append(ALLOC, acc, in);
        assertThat(out).isSameAs(acc);
        assertThat(in.refCnt()).isZero();
        assertThat(ByteBufUtil.getBytes(out)).containsExactly(1, 2, 3, 4);
        assertThat(out.release()).isTrue();
    }

    @Test
    void growsIntoANewBufferKeepingOnlyUnreadBytes() {
        ByteBuf acc = ALLOC.buffer(4, 4).writeBytes(new byte[] {1, 2, 3, 4});
        acc.skipBytes(2);
        ByteBuf in = bytes(5, 6, 7);
        ByteBuf out = Cumulator.append(ALLOC, acc, in);
        assertThat(out).isNotSameAs(acc);
        assertThat(acc.refCnt()).isZero();
        assertThat(in.refCnt()).isZero();
        assertThat(ByteBufUtil.getBytes(out)).containsExactly(3, 4, 5, 6, 7);
        assertThat(out.release()).isTrue();
    }

    @Test
    void copiesRatherThanWriteIntoABufferWhoseSlicesAreStillHeld() {
        ByteBuf acc = ALLOC.buffer(64).writeBytes(new byte[] {1, 2, 3});
        ByteBuf slice = acc.retainedSlice(0, 2); // relayed frame, not yet written out
        acc.skipBytes(2);
        ByteBuf in = bytes(4);
        ByteBuf out = Cumulator.append(ALLOC, acc, in);
        assertThat(out).isNotSameAs(acc);
        assertThat(acc.refCnt()).as("our reference dropped, the slice's kept").isEqualTo(1);
        assertThat(ByteBufUtil.getBytes(slice)).containsExactly(1, 2);
        assertThat(ByteBufUtil.getBytes(out)).containsExactly(3, 4);
        assertThat(slice.release()).isTrue();
        assertThat(acc.refCnt()).isZero();
        assertThat(out.release()).isTrue();
    }

    @Test
    void copiesOutOfAReadOnlyAccumulator() {
        ByteBuf backing = ALLOC.buffer(64).writeBytes(new byte[] {1, 2});
        ByteBuf acc = backing.asReadOnly();
        ByteBuf in = bytes(3);
        ByteBuf out = Cumulator.append(ALLOC, acc, in);
        assertThat(out).isNotSameAs(acc);
        assertThat(backing.refCnt()).isZero();
        assertThat(ByteBufUtil.getBytes(out)).containsExactly(1, 2, 3);
        out.release();
    }

    @Test
    void emptyInputIsReleased() {
        ByteBuf acc = ALLOC.buffer(8).writeByte(1);
        ByteBuf in = Unpooled.buffer(0);
        ByteBuf out = Cumulator.append(ALLOC, acc, in);
        assertThat(in.refCnt()).isZero();
        assertThat(ByteBufUtil.getBytes(out)).containsExactly(1);
        out.release();
    }
}
