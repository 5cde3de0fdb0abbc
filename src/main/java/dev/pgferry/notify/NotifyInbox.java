package dev.pgferry.notify;

import dev.pgferry.pool.Pool;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One client's side of the fan-out: the channels it listens on (as committed), and the notifications that came
 * while it could not have them. PostgreSQL sends a notification to a client between transactions only; so does this:
 * at once when the client holds no backend (or holds it outside a transaction), else after the ReadyForQuery that
 * ends its transaction ({@link #drain}). Also held while the client's socket is full; past
 * {@code pgferry.notify.max-queued} the client is closed. Runs on the client's event loop.
 */
public final class NotifyInbox implements Subscriber {
    /** What the session tells and does for the inbox. */
    public interface Client {
        /** Whether the client is between transactions: holding no backend, or one at rest outside a transaction. */
        boolean betweenTransactions();

        /** Ends the session with a FATAL error. */
        void closeWithFatal(String sqlState, String message);
    }

    /** PostgreSQL's program_limit_exceeded. */
    private static final String PROGRAM_LIMIT_EXCEEDED = "54000";

    private final Channel ch;
    private final Client client;
    private final ChannelListener listener;
    private final NotifyStats stats;
    private final NotificationQueue queue;
    private Set<String> channels = new LinkedHashSet<>();
    private boolean closed;

    public NotifyInbox(NotifyHub hub, Pool pool, Channel ch, int maxQueued, Client client) {
        this.ch = ch;
        this.client = client;
        this.listener = hub.listener(pool, ch.eventLoop());
        this.stats = hub.stats();
        this.queue = new NotificationQueue(maxQueued);
    }

    @Override
    public EventLoop loop() {
        return ch.eventLoop();
    }

    /** The channels listened on, as committed. */
    public Set<String> channels() {
        return channels;
    }

    /**
     * A committed transaction's LISTEN/UNLISTEN operations ({@code +ch}, {@code -ch}, {@code *}, in order) take effect:
     * {@code done} runs on this loop once every new channel is listened on.
     */
    public void apply(List<String> ops, Runnable done) {
        Set<String> now = after(channels, ops);
        List<String> add = new ArrayList<>();
        for (String c : now) {
            if (!channels.contains(c)) {
                add.add(c);
            }
        }
        List<String> remove = new ArrayList<>();
        for (String c : channels) {
            if (!now.contains(c)) {
                remove.add(c);
            }
        }
        channels = now;
        if (add.isEmpty() && remove.isEmpty()) {
            done.run();
            return;
        }
        listener.change(this, add, remove, done);
    }

    /**
     * The operations ran on the client's own backend (it is pinned, or in session mode): every channel they name now
     * lives there, so the fan-out forgets it (a channel never delivered twice).
     */
    public void movedToBackend(List<String> ops) {
        List<String> remove = new ArrayList<>();
        for (String op : ops) {
            if (op.equals("*")) {
                remove.addAll(channels);
            } else if (channels.contains(op.substring(1))) {
                remove.add(op.substring(1));
            }
        }
        if (!remove.isEmpty()) {
            channels.removeAll(remove);
            listener.change(this, List.of(), remove, null);
        }
    }

    /** The channels listened on after {@code ops} ran on {@code before}: what PostgreSQL's listen list becomes. */
    static Set<String> after(Set<String> before, List<String> ops) {
        Set<String> now = new LinkedHashSet<>(before);
        for (String op : ops) {
            switch (op.charAt(0)) {
                case '+' -> now.add(op.substring(1));
                case '-' -> now.remove(op.substring(1));
                default -> now.clear(); // '*'
            }
        }
        return now;
    }

    @Override
    public void deliver(ByteBuf message) {
        if (closed) {
            message.release();
            return;
        }
        if (queue.isEmpty() && ch.isWritable() && client.betweenTransactions()) {
            countDelivered(message);
            ch.writeAndFlush(message, ch.voidPromise());
            return;
        }
        boolean notification = isNotification(message);
        if (!queue.offer(message)) {
            if (notification) {
                stats.dropped.increment();
            }
            stats.slowClientsClosed.increment();
            String limit = "pgferry.notify.max-queued = " + queue.max();
            close();
            client.closeWithFatal(PROGRAM_LIMIT_EXCEEDED, "pgferry: too many notifications waiting for this"
                    + " client (" + limit + "): it does not read them fast enough");
        }
    }

    /** Sends what waits, as far as the client may have it now: after the ReadyForQuery ending a transaction. */
    public void drain() {
        if (queue.isEmpty() || closed) {
            return;
        }
        boolean wrote = false;
        while (!queue.isEmpty() && ch.isWritable() && client.betweenTransactions()) {
            ByteBuf m = queue.poll();
            countDelivered(m);
            ch.write(m, ch.voidPromise());
            wrote = true;
        }
        if (wrote) {
            ch.flush();
        }
    }

    private void countDelivered(ByteBuf m) {
        if (isNotification(m)) {
            stats.delivered.increment();
        }
    }

    private static boolean isNotification(ByteBuf m) {
        return m.getByte(m.readerIndex()) == 'A';
    }

    /** The client left: its subscriptions end, what waited is dropped. */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        int dropped = 0;
        ByteBuf m;
        while ((m = queue.poll()) != null) {
            if (isNotification(m)) {
                dropped++;
            }
            m.release();
        }
        stats.dropped.add(dropped);
        listener.leave(this, channels);
        channels = new LinkedHashSet<>();
    }
}
