package dev.pgferry.session;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The clients of one event loop, looked at periodically for {@link IdleLimits}, as PgBouncer's janitor does three
 * times a second: one scheduled task per loop instead of a timer per client reset on every message. A session only
 * notes when it came to rest (once per transaction or request, see {@link ClientSession}); the sweep compares.
 * Touched only on its loop.
 */
final class IdleSweep {
    private final IdleLimits limits;
    private final Set<ClientSession> sessions = new HashSet<>();
    private final ScheduledFuture<?> task;

    IdleSweep(EventLoop loop, IdleLimits limits) {
        this.limits = limits;
        long period = limits.sweepNanos();
        this.task = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
    }

    void add(ClientSession s) {
        sessions.add(s);
    }

    void remove(ClientSession s) {
        sessions.remove(s);
    }

    void stop() {
        task.cancel(false);
    }

    private void sweep() {
        long now = System.nanoTime();
        List<ClientSession> expired = null;
        for (ClientSession s : sessions) {
            if (s.idleVerdict(limits, now) != IdleLimits.Verdict.NONE) {
                if (expired == null) {
                    expired = new ArrayList<>();
                }
                expired.add(s); // closed after the walk: closing takes the session out of this set
            }
        }
        if (expired != null) {
            for (ClientSession s : expired) {
                s.idleTimeout(s.idleVerdict(limits, now));
            }
        }
    }
}
