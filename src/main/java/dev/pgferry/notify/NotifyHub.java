package dev.pgferry.notify;

import dev.pgferry.pool.Pool;
import io.netty.channel.EventLoop;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The listener connections of the process, one per database (PostgreSQL delivers a notification to every listener of
 * the database it was sent in, whoever its user), opened on the first subscription through the pool of the client
 * that made it.
 */
public final class NotifyHub {
    private final Map<String, ChannelListener> byDatabase = new ConcurrentHashMap<>();
    private final NotifyStats stats = new NotifyStats();
    /** {@code pgferry.notify.listener-idle-timeout} in force, in milliseconds. */
    private final LongSupplier idleMillis;

    public NotifyHub(LongSupplier idleMillis) {
        this.idleMillis = idleMillis;
    }

    public NotifyStats stats() {
        return stats;
    }

    /** The listener of {@code pool}'s database, made (not yet connected) on first use, on {@code loop}. */
    ChannelListener listener(Pool pool, EventLoop loop) {
        return byDatabase.computeIfAbsent(pool.key().database(), db -> new ChannelListener(db, pool, loop, stats, idleMillis));
    }

    /** pgferry stops: every listener connection is closed and not reopened. */
    public void stop() {
        byDatabase.values().forEach(ChannelListener::stop);
    }

    /** Listener connections made, by database: their channel counts (for SHOW and tests). */
    public Map<String, Integer> channelsByDatabase() {
        Map<String, Integer> m = new java.util.TreeMap<>();
        byDatabase.forEach((db, l) -> m.put(db, l.channelCount()));
        return m;
    }

    /** What SHOW LISTENERS shows of each database's listener, by database; read without a lock. */
    public java.util.List<ListenerView> views() {
        return byDatabase.values().stream().map(ChannelListener::view)
                .sorted(java.util.Comparator.comparing(ListenerView::database)).toList();
    }
}
