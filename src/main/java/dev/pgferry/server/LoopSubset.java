package dev.pgferry.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Some of Vert.x's event loops, as the child group of the PostgreSQL listener: accepted clients are spread over
 * them round robin. Vert.x owns the loops, so shutting this group down does nothing.
 */
final class LoopSubset extends AbstractEventExecutorGroup implements EventLoopGroup {
    private final EventLoop[] loops;
    private final EventLoopGroup owner;
    private int next;

    LoopSubset(EventLoopGroup owner, int count) {
        List<EventLoop> all = new ArrayList<>();
        for (EventExecutor e : owner) {
            all.add((EventLoop) e);
        }
        this.owner = owner;
        this.loops = all.subList(0, Math.max(1, Math.min(count, all.size()))).toArray(new EventLoop[0]);
    }

    List<EventLoop> loops() {
        return List.of(loops);
    }

    @Override
    public EventLoop next() {
        // the listener's acceptor calls this from one thread only
        EventLoop l = loops[next];
        next = (next + 1) % loops.length;
        return l;
    }

    @Override
    public Iterator<EventExecutor> iterator() {
        return List.<EventExecutor>of(loops).iterator();
    }

    @Override
    public ChannelFuture register(Channel channel) {
        return next().register(channel);
    }

    @Override
    public ChannelFuture register(ChannelPromise promise) {
        return next().register(promise);
    }

    @Override
    @Deprecated
    public ChannelFuture register(Channel channel, ChannelPromise promise) {
        return next().register(channel, promise);
    }

    @Override
    public boolean isShuttingDown() {
        return owner.isShuttingDown();
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        return terminationFuture();
    }

    @Override
    public Future<?> terminationFuture() {
        return owner.terminationFuture();
    }

    @Override
    @Deprecated
    public void shutdown() {
        // owned by Vert.x
    }

    @Override
    public boolean isShutdown() {
        return owner.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return owner.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return owner.awaitTermination(timeout, unit);
    }
}
