package dev.pgferry.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LoopSubsetTest {
    static final DefaultEventLoopGroup OWNER = new DefaultEventLoopGroup(4);

    @AfterAll
    static void stop() {
        OWNER.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }

    @Test
    void takesTheFirstLoopsAndHandsThemOutRoundRobin() {
        LoopSubset two = new LoopSubset(OWNER, 2);
        assertThat(two.loops()).hasSize(2);
        List<EventLoop> order = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            order.add(two.next());
        }
        assertThat(order).containsExactly(two.loops().get(0), two.loops().get(1), two.loops().get(0),
                two.loops().get(1), two.loops().get(0));
        assertThat(two.iterator()).toIterable().containsExactlyElementsOf(two.loops());
    }

    @Test
    void countIsClampedToWhatTheOwnerHas() {
        assertThat(new LoopSubset(OWNER, 9).loops()).hasSize(4);
        assertThat(new LoopSubset(OWNER, 0).loops()).hasSize(1);
    }

    @Test
    void shuttingDownTheSubsetLeavesTheOwnersLoopsRunning() {
        LoopSubset one = new LoopSubset(OWNER, 1);
        one.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        assertThat(OWNER.isShuttingDown()).isFalse();
        assertThat(one.next().submit(() -> "ran").syncUninterruptibly().getNow()).isEqualTo("ran");
    }
}
