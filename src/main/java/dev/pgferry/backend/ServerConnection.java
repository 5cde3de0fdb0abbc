package dev.pgferry.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import java.util.HashMap;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * One authenticated connection to PostgreSQL: its channel, the parameters the server reported, the
 * parameters pgferry set that the server does not report, its cancel key and its transaction status.
 * Touched only on its channel's event loop.
 */
public final class ServerConnection {
    private static final Logger LOG = Logger.getLogger(ServerConnection.class);

    private static final BackendListener NO_LISTENER = new IdleListener();

    private final Channel channel;
    private final BackendTarget target;
    private final long id;
    private final long createdNanos;
    /** ParameterStatus values as the server last reported them. */
    public final Map<String, String> reported = new HashMap<>();
    /** Parameters the server does not report, as pgferry last set them here (absent = server default). */
    public final Map<String, String> unreported = new HashMap<>(4);
    /**
     * The parameter signature of the client this backend was last brought to, while nothing changed since
     * (see SessionParameters#signature); null when unknown.
     */
    public ParameterSignature syncedTo;
    /** Whose unnamed statement this backend holds (a client session), and which of its Parses. */
    public UnnamedStatementOwner unnamedOwner;
    public long unnamedGeneration;
    /** Statements pgferry prepared here: server name → Parse body, least recently used first. */
    public final java.util.LinkedHashMap<String, byte[]> prepared = new java.util.LinkedHashMap<>(16, 0.75f, true);
    int processId;
    byte[] secretKey = new byte[0];
    /** The SASL mechanism this connection logged in with once the server accepted it; null for other methods. */
    String saslMechanism;
    private BackendListener listener = NO_LISTENER;
    /** CancelRequests forwarded for this connection whose connection the server has not closed yet. */
    private int cancelsInFlight;
    private Runnable whenNoCancelInFlight;
    private long lastUsedNanos;
    private boolean broken;
    private PoolSlot poolSlot;
    /** Index of this backend's server in its database's {@code hosts} list; -1 for a database of one host. */
    private int host = -1;
    private Object hostList;

    ServerConnection(Channel channel, BackendTarget target, long id) {
        this.channel = channel;
        this.target = target;
        this.id = id;
        this.createdNanos = System.nanoTime();
        this.lastUsedNanos = createdNanos;
    }

    public Channel channel() {
        return channel;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public BackendTarget target() {
        return target;
    }

    public long id() {
        return id;
    }

    public int processId() {
        return processId;
    }

    public byte[] secretKey() {
        return secretKey;
    }

    /** {@code SCRAM-SHA-256-PLUS} or {@code SCRAM-SHA-256} when the login was SCRAM, else null. */
    public String saslMechanism() {
        return saslMechanism;
    }

    public long createdNanos() {
        return createdNanos;
    }

    public long lastUsedNanos() {
        return lastUsedNanos;
    }

    public void touch() {
        lastUsedNanos = System.nanoTime();
    }

    /** Marks the connection as not to be reused (its state is unknown or it failed). */
    public void markBroken() {
        broken = true;
    }

    public boolean isBroken() {
        return broken || !channel.isActive();
    }

    public BackendListener listener() {
        return listener;
    }

    /** Routes this connection's traffic to {@code l}; null routes it to the idle listener, which discards the connection on any data. */
    public void listener(BackendListener l) {
        this.listener = l == null ? NO_LISTENER : l;
        if (l == null && !channel.config().isAutoRead()) {
            // reading may have paused for a slow client: idle, the connection must notice the server closing it
            channel.config().setAutoRead(true);
        }
    }

    /** Where this connection goes back to; null while no pool counts it. */
    public PoolSlot poolSlot() {
        return poolSlot;
    }

    public void poolSlot(PoolSlot slot) {
        this.poolSlot = slot;
    }

    /** The index of this backend's server in {@link #hostList()}, -1 for a database of one server. */
    public int host() {
        return host;
    }

    /** The host list {@link #host()} indexes (the pool's roster when the backend was opened), null if none. */
    public Object hostList() {
        return hostList;
    }

    public void host(int index, Object list) {
        this.host = index;
        this.hostList = list;
    }

    public void close() {
        broken = true;
        channel.close();
    }

    @Override
    public String toString() {
        return "S-" + id + "(" + target.address() + "/" + target.database() + " pid " + processId + ")";
    }

    /** The last handler of an authenticated backend's pipeline: hands everything to the current listener. */
    static final class RelayHandler extends ChannelInboundHandlerAdapter {
        private final ServerConnection conn;

        RelayHandler(ServerConnection conn) {
            this.conn = conn;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            conn.listener.onBackendRead(conn, (ByteBuf) msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            conn.listener.onBackendReadComplete(conn);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            conn.broken = true;
            conn.listener.onBackendClosed(conn, null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            conn.broken = true;
            if (cause instanceof java.io.IOException) {
                LOG.debugf("%s: %s", conn, cause.getMessage()); // the server or the network went away
            } else {
                LOG.errorf(cause, "%s: closed after an internal error", conn); // a bug of pgferry's: never silent
            }
            ctx.close();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            conn.listener.onBackendWritabilityChanged(conn, ctx.channel().isWritable());
        }
    }

    /** While idle in the pool, anything the server sends (a FATAL on termination, say) means the connection is done. */
    private static final class IdleListener implements BackendListener {
        @Override
        public void onBackendRead(ServerConnection conn, ByteBuf data) {
            data.release();
            conn.close();
        }

        @Override
        public void onBackendReadComplete(ServerConnection conn) {}

        @Override
        public void onBackendClosed(ServerConnection conn, Throwable cause) {
            Runnable onClose = conn.onIdleClose;
            if (onClose != null) {
                onClose.run();
            }
        }

        @Override
        public void onBackendWritabilityChanged(ServerConnection conn, boolean writable) {}
    }

    /**
     * Whether a CancelRequest forwarded for this connection may still reach it: the server has not yet closed the
     * connection that carried it, which it does only once it has signalled this backend (libpq's PQcancel waits
     * for that close for the same reason).
     */
    public boolean cancelInFlight() {
        return cancelsInFlight > 0;
    }

    /** Runs {@code r} once no cancel is in flight (see {@link #cancelInFlight()}); at once if none is. */
    public void whenNoCancelInFlight(Runnable r) {
        if (cancelsInFlight == 0) {
            r.run();
        } else {
            whenNoCancelInFlight = r;
        }
    }

    void cancelStarted() {
        cancelsInFlight++;
    }

    void cancelFinished() {
        if (--cancelsInFlight == 0 && whenNoCancelInFlight != null) {
            Runnable r = whenNoCancelInFlight;
            whenNoCancelInFlight = null;
            r.run();
        }
    }

    /** Called when the connection closes while no one holds it (the pool drops it). */
    Runnable onIdleClose;

    public void onIdleClose(Runnable r) {
        this.onIdleClose = r;
    }
}
