package dev.pgferry.notify;

import dev.pgferry.pool.Pool;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.Collection;
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

        /** Requests (Query, Sync, FunctionCall) the client sent so far: the number of the last one. */
        long requestsSent();
    }

    /** PostgreSQL's program_limit_exceeded. */
    private static final String PROGRAM_LIMIT_EXCEEDED = "54000";

    private final Channel ch;
    /** The client's pool; null in unit tests. */
    private Pool pool;
    private final Client client;
    private final ChannelListener listener;
    private final NotifyStats stats;
    private final NotificationQueue queue;
    private Set<String> channels = new LinkedHashSet<>();
    private boolean closed;
    /** Notifications delivered from the client's backend that the listener may deliver again; null if none. */
    private List<ByteBuf> echoes;
    private long echoesSince;
    private static final long ECHO_NANOS = 2_000_000_000L;
    /**
     * While LISTENs with notifications held from the backend are being applied: what the listener delivered
     * meanwhile (it may have read entries committed before its LISTEN), so the held copy of one is not delivered too.
     */
    private List<ByteBuf> seen;
    /** Channels subscribed ahead of the commit of their LISTEN, and what came for them meanwhile. */
    private final PendingListens pending = new PendingListens();

    public NotifyInbox(NotifyHub hub, Pool pool, Channel ch, int maxQueued, Client client) {
        this(hub.listener(pool, ch.eventLoop()), hub.stats(), ch, maxQueued, client);
        this.pool = pool;
    }

    NotifyInbox(ChannelListener listener, NotifyStats stats, Channel ch, int maxQueued, Client client) {
        this.ch = ch;
        this.client = client;
        this.listener = listener;
        this.stats = stats;
        this.queue = new NotificationQueue(maxQueued);
    }

    @Override
    public Pool pool() {
        return pool;
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
     * {@code done} runs on this loop once every new channel is listened on. {@code held}: NotificationResponses the
     * client's backend received after the commit and before its ReadyForQuery (its own NOTIFY in that transaction,
     * say), null if none: those of a channel the listener did not listen on yet are delivered first (it cannot have
     * them), the others released (the listener delivers them).
     */
    public void apply(List<String> ops, List<ByteBuf> held, Runnable done) {
        apply(ops, held, true, done);
    }

    /**
     * As {@link #apply(List, List, Runnable)}; {@code settlesPending}: the transaction that ended carried the LISTEN
     * the channels subscribed ahead were for ({@link #prepare}). Otherwise (an earlier transaction of a pipeline)
     * they stay pending.
     */
    public void apply(List<String> ops, List<ByteBuf> held, boolean settlesPending, Runnable done) {
        boolean settles = settlesPending && !pending.isEmpty();
        Set<String> now = after(channels, ops);
        List<String> remove = new ArrayList<>();
        for (String c : channels) {
            if (!now.contains(c)) {
                remove.add(c);
            }
        }
        List<String> add = new ArrayList<>();
        for (String c : now) {
            if (!channels.contains(c) && !(settles && pending.contains(c))) {
                add.add(c);
            }
        }
        Set<String> early = new LinkedHashSet<>();
        for (String c : settles ? pending.channels() : Set.<String>of()) {
            if (!now.contains(c)) {
                remove.add(c); // subscribed ahead, but this transaction's LISTEN of it did not hold
            } else if (!channels.contains(c)) {
                early.add(c);
            }
        }
        List<ByteBuf> ahead = settles ? pending.settle(early) : List.of();
        channels = now;
        for (ByteBuf m : ahead) {
            if (closed) {
                m.release();
            } else {
                push(m); // read by the listener after the commit was sent, before anything it reads from now on
            }
        }
        if (add.isEmpty() && remove.isEmpty()) {
            release(held);
            done.run();
            return;
        }
        if (held != null && seen == null) {
            seen = new ArrayList<>(2);
        }
        listener.change(this, add, remove, firsts -> {
            List<ByteBuf> fromListener = seen;
            seen = null;
            if (held != null) {
                for (ByteBuf m : held) {
                    if (!closed && firsts.contains(channelOf(m)) && !removeEqual(fromListener, m)) {
                        deliverHeld(m);
                    } else {
                        m.release();
                    }
                }
            }
            if (fromListener != null) {
                fromListener.forEach(ByteBuf::release);
            }
            done.run();
        });
    }

    /**
     * A notification the client's backend received that the listener, which was not listening yet, should not have:
     * delivered. But a backend that listens already may still read entries committed before its LISTEN (PostgreSQL's
     * Exec_ListenPreCommit: "we might get a few more"), so the listener can deliver the same one a moment later:
     * for {@link #ECHO_NANOS} a notification equal to one delivered so (same pid, channel, payload) is dropped once.
     */
    private void deliverHeld(ByteBuf m) {
        if (echoes == null) {
            echoes = new ArrayList<>(2);
        }
        echoes.add(m.retainedDuplicate());
        echoesSince = System.nanoTime();
        push(m);
    }

    /** Removes one message equal to {@code m} from {@code list} (null: none), releasing it; whether there was one. */
    private static boolean removeEqual(List<ByteBuf> list, ByteBuf m) {
        if (list != null) {
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i).equals(m)) {
                    list.remove(i).release();
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether {@code m}, from the listener, is a late copy of a notification delivered from the backend. */
    private boolean echo(ByteBuf m) {
        if (System.nanoTime() - echoesSince > ECHO_NANOS) {
            clearEchoes();
            return false;
        }
        return removeEqual(echoes, m);
    }

    private void clearEchoes() {
        if (echoes != null) {
            echoes.forEach(ByteBuf::release);
            echoes = null;
        }
    }

    private static void release(List<ByteBuf> held) {
        if (held != null) {
            held.forEach(ByteBuf::release);
        }
    }

    /** The channel of a NotificationResponse: after its type, length and pid. */
    static String channelOf(ByteBuf m) {
        return channelOf(m, m.readerIndex(), m.writerIndex());
    }

    /** The channel of the NotificationResponse at {@code ri} of {@code in}, which ends before {@code end}. */
    public static String channelOf(ByteBuf in, int ri, int end) {
        int from = ri + 9;
        int nul = in.indexOf(from, end, (byte) 0);
        return nul < 0 ? "" : in.toString(from, nul - from, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The operations ran on the client's own backend (it is pinned): a channel they UNLISTEN is forgotten by the
     * fan-out too. One they LISTEN that the fan-out has stays there: the pinned backend listens on the fan-out's
     * channels as well (for pg_listening_channels()), its copies are dropped, so delivery never changes hands.
     */
    public void movedToBackend(List<String> ops) {
        dropPending(); // they ran on the backend, which delivers what they listen on
        List<String> remove = new ArrayList<>();
        for (String op : ops) {
            if (op.equals("*")) {
                remove.addAll(channels);
            } else if (op.charAt(0) == '-' && channels.contains(op.substring(1))) {
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

    /**
     * A LISTEN of {@code add} is about to be sent in the client's transaction: the listener subscribes the client
     * first, so it listens before that LISTEN can commit and nothing committed after it is missed; {@code done} runs on
     * this loop once it does. What comes for them is held until the transaction ends ({@link PendingListens}).
     * {@code request}: the number the request carrying the LISTEN gets. False (and {@code done} not run) if there is
     * nothing to wait for: the client has those channels already.
     */
    public boolean prepare(Collection<String> add, long request, Runnable done) {
        List<String> fresh = new ArrayList<>();
        for (String c : add) {
            if (!channels.contains(c) && !pending.contains(c) && !fresh.contains(c)) {
                fresh.add(c);
            }
        }
        if (fresh.isEmpty() || closed) {
            return false;
        }
        pending.add(fresh, request);
        listener.change(this, fresh, List.of(), firsts -> done.run());
        return true;
    }

    /** Channels subscribed ahead of a commit wait for the end of the client's transaction. */
    public boolean hasPending() {
        return !pending.isEmpty();
    }

    /**
     * Whether channels subscribed ahead have their LISTEN's request answered by request {@code answered}: the end of
     * a transaction settles or drops them. Not before: requests ahead of the LISTEN ended without it.
     */
    public boolean pendingReached(long answered) {
        return pending.reached(answered);
    }

    /** A ReadyForQuery 'I' answered the client's request numbered {@code answered}. */
    public void transactionEnded(long answered) {
        pending.transactionEnded(answered);
    }

    /** The transaction ended without its LISTENs taking effect here: the channels subscribed ahead are let go. */
    public void dropPending() {
        if (pending.isEmpty()) {
            return;
        }
        List<String> remove = new ArrayList<>();
        for (String c : pending.channels()) {
            if (!channels.contains(c)) {
                remove.add(c);
            }
        }
        pending.clear();
        if (!remove.isEmpty()) {
            listener.change(this, List.of(), remove, null);
        }
    }

    @Override
    public void deliver(ByteBuf message) {
        if (closed || (echoes != null && echo(message))) {
            message.release();
            return;
        }
        if (!pending.isEmpty() && isNotification(message)) {
            String c = channelOf(message);
            if (pending.contains(c) && !channels.contains(c)) {
                if (!pending.hold(message, client.requestsSent(), queue.max())) {
                    message.release();
                    overflow(true);
                }
                return;
            }
        }
        if (seen != null && seen.size() < queue.max() && isNotification(message)) {
            seen.add(message.retainedDuplicate());
        }
        push(message);
    }

    /** Writes {@code message} now if the client may have it, else holds it (or closes the client past the bound). */
    private void push(ByteBuf message) {
        if (queue.isEmpty() && ch.isWritable() && client.betweenTransactions()) {
            countDelivered(message);
            ch.writeAndFlush(message, ch.voidPromise());
            return;
        }
        boolean notification = isNotification(message);
        if (!queue.offer(message)) {
            overflow(notification);
        }
    }

    /** Past {@code pgferry.notify.max-queued}: the client is closed, never pgferry's memory. */
    private void overflow(boolean notification) {
        if (notification) {
            stats.dropped.increment();
        }
        stats.slowClientsClosed.increment();
        String limit = "pgferry.notify.max-queued = " + queue.max();
        close();
        client.closeWithFatal(PROGRAM_LIMIT_EXCEEDED, "pgferry: too many notifications waiting for this"
                + " client (" + limit + "): it does not read them fast enough");
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
        clearEchoes();
        List<String> ahead = new ArrayList<>();
        for (String c : pending.channels()) {
            if (!channels.contains(c)) {
                ahead.add(c);
            }
        }
        pending.clear();
        if (!ahead.isEmpty()) {
            listener.leave(this, ahead);
        }
        if (seen != null) {
            seen.forEach(ByteBuf::release);
            seen = null;
        }
        if (!channels.isEmpty()) {
            listener.leave(this, channels);
            channels = new LinkedHashSet<>();
        }
    }
}
