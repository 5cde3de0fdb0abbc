package dev.pgferry.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A backend read asks for at least {@link BackendChannels#MIN_READ} bytes however small the last responses were, so
 * a SELECT's rows after a run of 20-byte UPDATE responses arrive in one read, not two or three.
 */
class BackendReadSizingTest {
    private final DefaultEventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stop() {
        loop.shutdownGracefully();
    }

    @Test
    void theGuessStaysAtTheFloorAfterManySmallResponses() throws Exception {
        Bootstrap b = BackendChannels.tcpOnly(NioSocketChannel::new).bootstrap(loop,
                new BackendTarget("127.0.0.1", 5432, "app"));
        RecvByteBufAllocator reads = (RecvByteBufAllocator) b.config().options().get(ChannelOption.RCVBUF_ALLOCATOR);
        if (reads == null) {
            reads = new AdaptiveRecvByteBufAllocator(); // what a channel gets when the bootstrap sets nothing
        }
        RecvByteBufAllocator.Handle h = reads.newHandle();
        for (int response = 0; response < 50; response++) {
            h.reset(null);
            h.attemptedBytesRead(h.guess());
            h.lastBytesRead(20); // CommandComplete "UPDATE 1" + ReadyForQuery
            h.readComplete();
        }
        assertThat(h.guess()).isGreaterThanOrEqualTo(BackendChannels.MIN_READ);
    }

    @Test
    void theUnixSocketBootstrapSizesReadsAlike() throws Exception {
        Bootstrap b = new BackendChannels(NioSocketChannel::new, NioSocketChannel::new).bootstrap(loop,
                new BackendTarget("/var/run/postgresql", 5432, "app"));
        assertThat(b.config().options().get(ChannelOption.RCVBUF_ALLOCATOR)).isSameAs(BackendChannels.READS);
    }
}
