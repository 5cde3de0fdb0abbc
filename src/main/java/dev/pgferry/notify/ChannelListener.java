package dev.pgferry.notify;

import dev.pgferry.backend.BackendListener;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.Pool;
import dev.pgferry.protocol.FrontendMessages;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * One database's listener connection: a backend opened like a pool's (same server, same login) that LISTENs on every
 * channel some client of that database subscribed to, and hands each NotificationResponse, as PostgreSQL sent it (the
 * sender's pid, channel, payload), to the channel's subscribers in the order it came. A channel is LISTENed on its
 * first subscriber and UNLISTENed when its last leaves. Lost, the connection is reopened, every channel LISTENed
 * again, and the subscribers get a notice that they may have missed notifications (PostgreSQL keeps none for a
 * listener that was not there). Once its last channel is UNLISTENed the connection is closed after
 * {@code pgferry.notify.listener-idle-timeout} (a LISTEN meanwhile keeps it), so a database nobody listens on holds
 * no backend; the next LISTEN opens it again, logged in through that subscriber's pool.
 *
 * <p>Everything here runs on the listener's event loop; clients reach it through {@link #change} and
 * {@link #leave}, and are answered on their own loops.
 */
final class ChannelListener implements BackendListener {
    private static final Logger LOG = Logger.getLogger(ChannelListener.class);
    private static final int MAX_MESSAGE = 1 << 20;
    private static final long RETRY_MIN_MILLIS = 250;
    private static final long RETRY_MAX_MILLIS = 10_000;
    static final String MISSED = "pgferry: the connection listening for notifications was lost and reopened;"
            + " notifications sent meanwhile may have been missed";

    enum State {
        /** No connection and none wanted yet. */
        CLOSED,
        CONNECTING,
        OPEN,
        /** Lost or failed to open: a reconnect is scheduled. */
        WAITING_TO_RETRY
    }

    private final String database;
    /** The pool whose server and login the connection uses: that of the subscriber that last opened it. */
    private volatile Pool pool;
    /** {@code pgferry.notify.listener-idle-timeout}, in milliseconds, as in force when it is read. */
    private final LongSupplier idleMillis;
    /** The close scheduled since the last channel went; null if none. */
    private ScheduledFuture<?> idleClose;
    /** The counts SHOW LISTENERS reads from another thread, written after each change. */
    private volatile int shownChannels;
    private volatile int shownSubscribers;
    private final EventLoop loop;
    private final NotifyStats stats;
    private final Subscriptions<Subscriber> subs = new Subscriptions<>();
    /** Per query sent and not yet answered (its ReadyForQuery): what runs when it is. */
    private final ArrayDeque<List<Runnable>> inFlight = new ArrayDeque<>();
    /** What runs once a connection is open and has LISTENed on every channel. */
    private List<Runnable> afterConnect = new ArrayList<>();
    private final MessageFrameDecoder frames = new MessageFrameDecoder(MAX_MESSAGE);
    private volatile State state = State.CLOSED;
    /** pgferry is stopping: no connection is opened or kept any more. */
    private boolean stopped;
    private volatile ServerConnection conn;
    /** The connection was lost since subscribers last had it: they get a notice once it is back. */
    private boolean lost;
    private long retryMillis = RETRY_MIN_MILLIS;

    ChannelListener(String database, Pool pool, EventLoop loop, NotifyStats stats, LongSupplier idleMillis) {
        this.database = database;
        this.pool = pool;
        this.idleMillis = idleMillis;
        this.loop = loop;
        this.stats = stats;
    }

    /**
     * Subscribes {@code s} to {@code add} and unsubscribes it from {@code remove}; {@code done} runs on the
     * subscriber's loop once every LISTEN this needed took effect (then any notification committed later reaches
     * it), so the client's ReadyForQuery can wait for it, as PostgreSQL answers a LISTEN once it listens. It is
     * given the channels of {@code add} nobody subscribed to before: the listener received nothing of them yet.
     */
    void change(Subscriber s, Collection<String> add, Collection<String> remove, Consumer<Set<String>> done) {
        execute(() -> {
            Set<String> firsts = new HashSet<>();
            StringBuilder sql = new StringBuilder();
            for (String ch : remove) {
                if (subs.remove(ch, s)) {
                    sql.append("UNLISTEN ").append(quote(ch)).append(';');
                }
            }
            for (String ch : add) {
                if (subs.add(ch, s)) {
                    firsts.add(ch);
                    sql.append("LISTEN ").append(quote(ch)).append(';');
                }
            }
            Runnable back = () -> answer(s, done == null ? null : () -> done.accept(firsts));
            idleWatch();
            switch (state) {
                case OPEN -> {
                    if (!sql.isEmpty()) {
                        send(sql.toString(), back);
                    } else if (!inFlight.isEmpty()) {
                        inFlight.peekLast().add(back); // a LISTEN of one of its channels may be in that query
                    } else {
                        back.run();
                    }
                }
                case CONNECTING, WAITING_TO_RETRY -> afterConnect.add(back);
                case CLOSED -> {
                    if (subs.isEmpty()) {
                        back.run();
                    } else {
                        afterConnect.add(back);
                        if (s.pool() != null) {
                            pool = s.pool(); // the login of whoever needs the connection now
                        }
                        connect();
                    }
                }
            }
        });
    }

    /** A client left (closed): unsubscribed from {@code channels}, nothing to wait for. */
    void leave(Subscriber s, Collection<String> channels) {
        if (!channels.isEmpty()) {
            change(s, List.of(), List.copyOf(channels), null);
        }
    }

    private static void answer(Subscriber s, Runnable done) {
        if (done == null) {
            return;
        }
        try {
            s.loop().execute(done);
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    private void execute(Runnable r) {
        if (loop.inEventLoop()) {
            r.run();
        } else {
            try {
                loop.execute(r);
            } catch (RejectedExecutionException e) {
                // shutting down: nothing to listen for
            }
        }
    }

    /** An identifier as PostgreSQL reads it back exactly: quoted, a quote doubled. */
    static String quote(String channel) {
        return '"' + channel.replace("\"", "\"\"") + '"';
    }

    private void connect() {
        state = State.CONNECTING;
        LOG.debugf("notify: opening the listener connection of database %s", database);
        pool.openUnpooled(loop, Map.of("application_name", "pgferry listener")).addListener(f -> {
            if (!f.isSuccess()) {
                LOG.warnf("notify: could not open the listener connection of database %s: %s", database,
                        f.cause().getMessage());
                lost = true;
                retryLater();
                return;
            }
            if (stopped) {
                ((ServerConnection) f.getNow()).close(); // opened while pgferry stopped
                return;
            }
            conn = (ServerConnection) f.getNow();
            conn.listener(this);
            state = State.OPEN;
            idleWatch(); // everyone may have left while it opened
            retryMillis = RETRY_MIN_MILLIS;
            List<Runnable> waiting = afterConnect;
            afterConnect = new ArrayList<>();
            if (lost) {
                lost = false;
                waiting.add(this::tellMissed);
            }
            StringBuilder sql = new StringBuilder();
            for (String ch : subs.channels()) {
                sql.append("LISTEN ").append(quote(ch)).append(';');
            }
            if (sql.isEmpty()) {
                waiting.forEach(Runnable::run);
            } else {
                send(sql.toString(), waiting);
            }
        });
    }

    /**
     * After a change: with no channel left, an open connection is closed once the idle timeout passes without a new
     * subscription; with channels, a close scheduled is called off.
     */
    private void idleWatch() {
        shownChannels = subs.channels().size();
        shownSubscribers = subs.everyone().size();
        if (!subs.isEmpty()) {
            if (idleClose != null) {
                idleClose.cancel(false);
                idleClose = null;
            }
            return;
        }
        if (idleClose != null || state != State.OPEN) {
            return;
        }
        long delay = Math.max(0, idleMillis.getAsLong());
        idleClose = loop.schedule(this::closeIdle, delay, TimeUnit.MILLISECONDS);
    }

    private void closeIdle() {
        idleClose = null;
        if (!subs.isEmpty() || state != State.OPEN || stopped) {
            return;
        }
        LOG.debugf("notify: closing the listener connection of database %s: no channel left", database);
        ServerConnection c = conn;
        conn = null; // its close is not a loss to recover from (onBackendClosed)
        state = State.CLOSED;
        frames.release();
        List<List<Runnable>> waiting = new ArrayList<>(inFlight);
        inFlight.clear();
        waiting.forEach(l -> l.forEach(Runnable::run)); // UNLISTENs: nothing listens any more either way
        c.close();
    }

    /** pgferry stops: the listener connection is closed, and not reopened. */
    void stop() {
        execute(() -> {
            stopped = true;
            state = State.CLOSED;
            ServerConnection c = conn;
            conn = null; // its close is not a loss to recover from (onBackendClosed)
            frames.release();
            if (c != null) {
                c.close();
            }
        });
    }

    private void retryLater() {
        state = State.WAITING_TO_RETRY;
        // whoever waits for a LISTEN is answered now rather than hang while the server is away
        List<Runnable> waiting = afterConnect;
        afterConnect = new ArrayList<>();
        waiting.forEach(Runnable::run);
        long delay = retryMillis;
        retryMillis = Math.min(RETRY_MAX_MILLIS, retryMillis * 2);
        loop.schedule(() -> {
            if (state != State.WAITING_TO_RETRY) {
                return;
            }
            if (subs.isEmpty()) {
                state = State.CLOSED;
                lost = false;
            } else {
                connect();
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void tellMissed() {
        stats.listenerReconnects.increment();
        for (Subscriber s : subs.everyone()) {
            ByteBuf notice = io.netty.buffer.ByteBufAllocator.DEFAULT.buffer(160); // conn may be gone again
            ServerMessages.noticeResponse(notice, "WARNING", "01000", MISSED);
            try {
                s.loop().execute(() -> s.deliver(notice));
            } catch (RejectedExecutionException e) {
                notice.release();
            }
        }
    }

    private void send(String sql, Runnable then) {
        List<Runnable> after = new ArrayList<>(2);
        after.add(then);
        send(sql, after);
    }

    private void send(String sql, List<Runnable> after) {
        inFlight.addLast(after);
        ByteBuf out = conn.channel().alloc().buffer(sql.length() + 8);
        FrontendMessages.query(out, sql);
        conn.channel().writeAndFlush(out, conn.channel().voidPromise());
    }

    @Override
    public void onBackendRead(ServerConnection c, ByteBuf data) {
        if (c != conn) {
            data.release();
            return;
        }
        try {
            frames.readAll(c.channel().alloc(), data, this::handle);
        } catch (ProtocolException e) {
            LOG.warnf("notify: the listener connection of database %s sent an invalid message: %s", database,
                    e.getMessage());
            c.markBroken();
            c.close();
            frames.releaseIfEmpty();
        }
    }

    private void handle(ByteBuf in, int frame) throws ProtocolException {
        int ri = in.readerIndex();
        switch (in.getByte(ri)) {
            case ProtocolCodes.NOTIFICATION_RESPONSE -> fanOut(in, ri, frame);
            case ProtocolCodes.READY_FOR_QUERY -> {
                List<Runnable> done = inFlight.pollFirst();
                if (done != null) {
                    done.forEach(Runnable::run);
                }
            }
            case ProtocolCodes.ERROR_RESPONSE -> LOG.warnf("notify: the listener connection of database %s: %s",
                    database, MessageReader.errorFields(in, ri).get('M'));
            default -> {
                // CommandComplete, ParameterStatus, notices: nothing to do
            }
        }
    }

    /** One NotificationResponse: copied once, each subscriber of its channel gets a duplicate on its own loop. */
    private void fanOut(ByteBuf in, int ri, int frame) throws ProtocolException {
        String channel = MessageReader.cstring(in, ri + 9, ri + frame);
        var to = subs.subscribers(channel);
        if (to.isEmpty()) {
            return; // its last subscriber left, the UNLISTEN is on its way
        }
        ByteBuf copy = conn.channel().alloc().buffer(frame);
        copy.writeBytes(in, ri, frame);
        for (Subscriber s : to) {
            ByteBuf m = copy.retainedDuplicate();
            try {
                s.loop().execute(() -> s.deliver(m));
            } catch (RejectedExecutionException e) {
                m.release();
            }
        }
        copy.release();
    }

    @Override
    public void onBackendReadComplete(ServerConnection c) {}

    @Override
    public void onBackendClosed(ServerConnection c, Throwable cause) {
        if (c != conn) {
            return;
        }
        LOG.warnf("notify: the listener connection of database %s was lost; reopening it", database);
        conn = null;
        frames.release();
        // whoever waited for a LISTEN on it is answered: it is sent again on the new connection
        List<List<Runnable>> waiting = new ArrayList<>(inFlight);
        inFlight.clear();
        lost = true;
        retryMillis = RETRY_MIN_MILLIS;
        state = State.WAITING_TO_RETRY;
        waiting.forEach(l -> l.forEach(Runnable::run));
        loop.execute(() -> {
            if (state == State.WAITING_TO_RETRY && !subs.isEmpty()) {
                connect();
            } else if (subs.isEmpty()) {
                state = State.CLOSED;
                lost = false;
            }
        });
    }

    @Override
    public void onBackendWritabilityChanged(ServerConnection c, boolean writable) {}

    // ---- for SHOW and the tests --------------------------------------------------------------------------------

    State state() {
        return state;
    }

    int channelCount() {
        return subs.channels().size();
    }

    String database() {
        return database;
    }

    /** For SHOW LISTENERS, from another thread: each field as last written on the listener's loop. */
    ListenerView view() {
        ServerConnection c = conn;
        return new ListenerView(database, pool.key().user(), state.name().toLowerCase(),
                c == null ? 0 : c.processId(), shownChannels, shownSubscribers);
    }
}
