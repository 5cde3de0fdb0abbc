package dev.pgferry.observability.health;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Notices a blocked event loop: every second each loop runs a tiny task that stamps the time. A loop whose
 * stamp is old has not run its task queue since, so it is stuck in some handler; liveness reports it.
 */
@ApplicationScoped
public class EventLoopWatchdog {
    static final long PERIOD_MILLIS = 1000;

    @Inject
    Vertx vertx;

    private final List<ScheduledFuture<?>> ticks = new ArrayList<>();
    private volatile List<String> names = List.of();
    private volatile AtomicLongArray lastRunNanos = new AtomicLongArray(0);

    void onStart(@Observes StartupEvent event) {
        start();
    }

    void onStop(@Observes ShutdownEvent event) {
        stop();
    }

    synchronized void start() {
        List<EventExecutor> loops = new ArrayList<>();
        ((VertxInternal) vertx).getEventLoopGroup().forEach(loops::add);
        AtomicLongArray stamps = new AtomicLongArray(loops.size());
        List<String> loopNames = new ArrayList<>();
        long now = System.nanoTime();
        for (int i = 0; i < loops.size(); i++) {
            int index = i;
            stamps.set(i, now);
            loopNames.add("event-loop-" + i);
            ticks.add(loops.get(i).scheduleAtFixedRate(() -> stamps.set(index, System.nanoTime()), 0,
                    PERIOD_MILLIS, TimeUnit.MILLISECONDS));
        }
        names = List.copyOf(loopNames);
        lastRunNanos = stamps;
    }

    synchronized void stop() {
        ticks.forEach(t -> t.cancel(false));
        ticks.clear();
    }

    /** Per loop, milliseconds since it last ran its tick; a healthy loop stays near {@link #PERIOD_MILLIS} or below. */
    public List<LoopAge> ages() {
        AtomicLongArray stamps = lastRunNanos;
        List<String> loopNames = names;
        long now = System.nanoTime();
        List<LoopAge> out = new ArrayList<>(stamps.length());
        for (int i = 0; i < stamps.length(); i++) {
            out.add(new LoopAge(loopNames.get(i), TimeUnit.NANOSECONDS.toMillis(now - stamps.get(i))));
        }
        return out;
    }

    public record LoopAge(String loop, long millisSinceLastRun) {}
}
