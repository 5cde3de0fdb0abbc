package dev.pgferry.session;

import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;

/**
 * Client flushes put off to the end of the event loop's current pass. Within one pass over the ready sockets,
 * every query goes to its backend first and the responses go to their clients after: the servers get work as
 * early as possible, and a client process that serves many connections (pgbench's threads, an application's
 * pool) is woken once for the responses of a pass rather than once per response.
 */
final class DeferredFlush implements Runnable {
    private static final FastThreadLocal<DeferredFlush> BATCH = new FastThreadLocal<>();

    private final ArrayList<ClientSession> sessions = new ArrayList<>(64);
    private final SingleThreadEventLoop loop;
    private boolean scheduled;

    private DeferredFlush(SingleThreadEventLoop loop) {
        this.loop = loop;
    }

    /** Flushes {@code s} at the end of this pass of {@code loop}; call on {@code loop}. */
    static void add(EventLoop loop, ClientSession s) {
        DeferredFlush b = BATCH.get();
        if (b == null) {
            b = new DeferredFlush((SingleThreadEventLoop) loop);
            BATCH.set(b);
        }
        b.sessions.add(s);
        if (!b.scheduled) {
            b.scheduled = true;
            b.loop.executeAfterEventLoopIteration(b);
        }
    }

    @Override
    public void run() {
        scheduled = false;
        ArrayList<ClientSession> list = sessions;
        for (int i = 0; i < list.size(); i++) {
            list.get(i).flushDeferred();
        }
        list.clear();
    }
}
