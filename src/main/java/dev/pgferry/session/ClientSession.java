package dev.pgferry.session;

import dev.pgferry.backend.BackendListener;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig.PoolMode;
import dev.pgferry.pool.LeaseWaiter;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolException;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.session.SessionState.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * One logged-in client, a {@link SessionState} machine from where its {@link LoginHandler} hands it over:
 * {@code IDLE → LEASING (→ CHECKING) (→ RESTORING) →
 * RELAYING (⇄ FIXUP) → IDLE}, then {@code CLOSED}. In IDLE it holds no backend. The first message that needs the
 * server leases one from the pool, brings the backend's parameters to the client's, then relays. Every Query, Sync
 * and FunctionCall sent is answered by one ReadyForQuery ({@link TransactionTracker}); when the tracker is at rest
 * outside a transaction, the backend goes back to the pool (transaction mode). Runs on the client's event loop,
 * which is also its backend's.
 *
 * <p>This class holds the session's state and dispatches on it; the jobs are done by the {@link RequestRelay}
 * (client → backend), the {@link ResponseRelay} (backend → client), the {@link LeaseCycle} (lease, check, restore,
 * fixup, release) and the {@link SessionEnd} (every way it ends). Their shared state is package-private here.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter
        implements BackendListener, LeaseWaiter, CancelRegistry.Target {
    private static final Logger LOG = Logger.getLogger(ClientSession.class);
    /** What a client may send while it waits for a backend before pgferry stops reading it. */
    private static final int WAIT_BUFFER_LIMIT = 256 * 1024;

    final SessionContext sc;
    final Pool pool;
    final SessionParameters params;
    final String id;
    /** The user the client logged in as; with a forced user not its pool's ({@link Pool#key()}). */
    private final String user;
    private final byte[] cancelKey;
    private final int processId;
    final boolean transactionMode;
    /** When the client connected (before its login), as PgBouncer's connect_time. */
    private final long connectedMillis;

    // The relay and its bookkeeping: created by startWork() at the client's first message (or in session mode at
    // begin), which every lease follows. An idle client that has not sent a query yet holds none of them (issue 18:
    // ~0.6 KB of each idle client's heap). Read only in states past IDLE, or after a lease, where they exist.
    TransactionTracker tx;
    TransactionEffects txEffects;
    StatementRouter router;
    RequestRelay requests;
    ResponseRelay responses;
    LeaseCycle lease;
    final SessionEnd end;

    Channel ch;
    SessionState state = SessionState.IDLE;
    /** Frames what the client sends; keeps what is not yet relayed (a partial message, or all while no backend). */
    MessageFrameDecoder clientFrames;
    /** Frames what the leased backend sends, and keeps what is not yet relayed (a partial message); from startWork. */
    MessageFrameDecoder backendFrames;
    volatile ServerConnection leased;
    /** Tied to its backend for the rest of the session by state that cannot move (transaction mode only). */
    boolean pinned;
    /** Its LISTEN channels and held notifications ({@link ListenFanout}); null until a LISTEN of it commits. */
    dev.pgferry.notify.NotifyInbox inbox;
    /** The leased backend sent a notification: it listens, and is cleaned before it goes back ({@link ListenFanout}). */
    boolean backendListens;
    /** The notifications it sent, kept until the transaction's LISTENs are settled ({@link ListenFanout}); or null. */
    java.util.List<ByteBuf> heldFromBackend;
    /** pgferry's own query runs on the leased backend ahead of the client's next message: relaying waits for it. */
    boolean relayHeld;
    /** Its pinned backend LISTENs on its fan-out channels too, for pg_listening_channels() ({@link PinnedListens}). */
    boolean fanoutOnBackend;
    /** Pinned mid-transaction: its fan-out channels are LISTENed on the backend at the transaction's end. */
    boolean fanoutToBackendAtEnd;
    /** Something was written to the backend, not yet flushed (flushed once per read batch). */
    boolean backendFlush;
    /** Something was written to the client, not yet flushed. */
    boolean clientFlush;
    /** A client flush is queued for the end of this event-loop pass ({@link DeferredFlush}). */
    private boolean flushDeferred;
    /** This loop's sweep of the idle limits; null when none is set (then {@link #restSince} is never written). */
    private IdleSweep idleSweep;
    /**
     * When the client last came to rest: logged in, gave its backend back, or got the ReadyForQuery ending a request
     * inside a transaction. Written once per transaction or request, never per message; read by {@link IdleSweep}.
     */
    private long restSince;

    /**
     * {@code backendPid}: in session mode the real process id of the backend leased at login, which the client keeps
     * ({@link #begin}) and is told as its own; 0 in transaction mode, where pgferry makes one up.
     */
    ClientSession(SessionContext sc, Pool pool, String user, SessionParameters params, String id, byte[] cancelKey,
            long connectedMillis, int backendPid) {
        this.sc = sc;
        // the pool's copy when equal (it almost always is): not one String per client
        this.user = user.equals(pool.key().user()) ? pool.key().user() : user;
        this.connectedMillis = connectedMillis;
        this.pool = pool;
        this.params = params;
        this.id = id;
        this.cancelKey = cancelKey;
        this.transactionMode = pool.settings().mode() == PoolMode.TRANSACTION;
        this.end = new SessionEnd(this);
        this.processId = sc.cancels.register(this, backendPid);
    }

    /** Creates the relay and its bookkeeping: at the first message of the client, or at {@link #begin}. */
    private void startWork() {
        clientFrames = new MessageFrameDecoder(sc.config.maxMessageLength());
        // the request relay still passes on the messages ahead of one with a refused length (RequestRelay#relay)
        clientFrames.holdRefusedRead();
        tx = new TransactionTracker();
        txEffects = new TransactionEffects();
        backendFrames = new MessageFrameDecoder(ResponseRelay.MAX_SERVER_MESSAGE);
        router = new StatementRouter(new StatementRouter.Wire() {
            @Override
            public ByteBufAllocator alloc() {
                return ch.alloc();
            }

            @Override
            public void toBackend(ServerConnection c, ByteBuf message) {
                c.channel().write(message, c.channel().voidPromise());
                backendFlush = true;
            }

            @Override
            public void toClient(ByteBuf message) {
                ch.write(message, ch.voidPromise());
                clientFlush = true;
            }

            @Override
            public void writeRun(ServerConnection c, ByteBuf in, int from, int to) {
                requests.writeRun(c, in, from, to);
            }
        }, Math.max(1, sc.config.prepared().maxPerBackend()), sc.schemaEpoch);
        requests = new RequestRelay(this);
        responses = new ResponseRelay(this);
        lease = new LeaseCycle(this, sc.config.maxMessageLength(), sc.config.pool().checkDelay().toNanos());
    }

    /** Moves the session along {@link SessionState#on}: once per lease step, never per message. */
    void to(Event e) {
        state = state.on(e);
    }

    /** Session mode: starts with the backend leased at login, which this client keeps to the end. On its loop. */
    void begin(ServerConnection c) {
        startWork();
        to(Event.REQUEST);
        lease.ready(c);
    }

    int processId() {
        return processId;
    }

    @Override
    public byte[] cancelKey() {
        return cancelKey;
    }

    @Override
    public ServerConnection currentBackend() {
        return leased;
    }

    /** Routes a cancel on the client's loop, by the state it finds there ({@link LeaseCycle#cancel}). */
    @Override
    public void cancel(BiConsumer<ServerConnection, Runnable> forwarder, Runnable done) {
        Channel channel = ch;
        if (channel == null) {
            done.run(); // not yet in its pipeline: nothing sent, nothing to cancel
            return;
        }
        try {
            channel.eventLoop().execute(() -> {
                if (lease == null) {
                    done.run(); // it has sent nothing yet
                } else {
                    lease.cancel(forwarder, done);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.run(); // shutting down
        }
    }

    public Pool pool() {
        return pool;
    }

    /** The user the client logged in as (SHOW CLIENTS' user); the pool's may be the database's forced user. */
    public String user() {
        return user;
    }

    public String id() {
        return id;
    }

    /** idle, leasing, restoring, leased, fixup or closed, as SHOW CLIENTS and the client counts read it. */
    public String stateName() {
        return state.label;
    }

    public long connectedMillis() {
        return connectedMillis;
    }

    /**
     * The client's address as Netty prints it ({@code /127.0.0.1:51234}); on the Unix socket, whose peers have no
     * name, {@code unix:<listen port>}, as PgBouncer's SHOW CLIENTS (addr {@code unix}, port the listen port).
     */
    public String remoteAddress() {
        return remoteAddress(sc, ch);
    }

    static String remoteAddress(SessionContext sc, Channel ch) {
        if (ch instanceof io.netty.channel.unix.DomainSocketChannel) {
            return "unix:" + sc.config.listenPort();
        }
        return ch == null ? "" : String.valueOf(ch.remoteAddress());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ch = ctx.channel();
        sc.sessions.add(this);
        idleSweep = sc.idleSweep(ch.eventLoop());
        if (idleSweep != null) {
            idleSweep.add(this);
            rest();
        }
    }

    void rest() {
        if (idleSweep != null) {
            restSince = System.nanoTime();
        }
    }

    /** Which idle limit this client has outlived at {@code now}, if any; on its loop. */
    IdleLimits.Verdict idleVerdict(IdleLimits limits, long now) {
        return limits.verdict(state, tx, now - restSince); // tx is null only before the first message: not read then
    }

    void idleTimeout(IdleLimits.Verdict verdict) {
        end.idleTimeout(verdict);
    }

    // ---- the dispatch ------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf data = (ByteBuf) msg;
        if (state == SessionState.CLOSED) {
            data.release();
            return;
        }
        pool.stats().bytesFromClients.add(data.readableBytes());
        if (clientFrames == null) {
            startWork(); // the first message since the login
        }
        clientFrames.append(ctx.alloc(), data);
        switch (state) {
            case IDLE, SKIPPING_TO_SYNC -> requests.onIdle();
            case RELAYING -> requests.relay();
            case LEASING, CHECKING, RESTORING, FIXUP -> {
                if (clientFrames.readableBytes() > WAIT_BUFFER_LIMIT) {
                    ch.config().setAutoRead(false); // kept until the backend is ready; bounded meanwhile
                }
            }
            case STARTUP, AUTHENTICATING, WELCOMING, CLOSED -> {
                // not reached: a session starts IDLE (its login had the states before), and a closed one released above
            }
        }
    }

    @Override
    public void onBackendRead(ServerConnection c, ByteBuf data) {
        if (state == SessionState.RELAYING && c == leased) {
            responses.relay(c, data);
        } else {
            data.release(); // pgferry's own queries read through InternalQuery; a backend given back sends nothing
        }
    }

    @Override
    public void onLease(ServerConnection c) {
        lease.onLease(c);
    }

    @Override
    public void onLeaseFailed(PoolException error) {
        lease.onLeaseFailed(error);
    }

    @Override
    public void onBackendClosed(ServerConnection c, Throwable cause) {
        end.backendLost(c);
    }

    // ---- flushing and backpressure -----------------------------------------------------------------

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushBackend();
        deferClientFlush(); // answers pgferry gave itself (CloseComplete, DEALLOCATE) with nothing else to send
    }

    @Override
    public void onBackendReadComplete(ServerConnection c) {
        deferClientFlush();
    }

    void flushBackend() {
        if (backendFlush) {
            backendFlush = false;
            ServerConnection c = leased;
            if (c != null) {
                c.channel().flush();
            }
        }
    }

    void flushClient() {
        if (clientFlush) {
            clientFlush = false;
            ch.flush();
        }
    }

    /** Flushes the client at the end of this event-loop pass (see {@link DeferredFlush}). */
    void deferClientFlush() {
        if (clientFlush && !flushDeferred) {
            flushDeferred = true;
            DeferredFlush.add(ch.eventLoop(), this);
        }
    }

    void flushDeferred() {
        flushDeferred = false;
        flushClient();
    }

    @Override
    public void onBackendWritabilityChanged(ServerConnection c, boolean writable) {
        if (state == SessionState.RELAYING) {
            ch.config().setAutoRead(writable);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (inbox != null && ch.isWritable()) {
            inbox.drain();
        }
        ServerConnection c = leased;
        if (c != null && state == SessionState.RELAYING) {
            c.channel().config().setAutoRead(ch.isWritable());
        }
    }

    /** Whether the client is between transactions, where PostgreSQL sends it notifications. */
    boolean betweenTransactions() {
        return state.holdsNothing() || (state == SessionState.RELAYING && tx.atRest() && !tx.inTransaction());
    }

    /** Whether the backend stays with this client between transactions: session mode, or pinned. */
    boolean keepsBackend() {
        return !transactionMode || pinned;
    }

    // ---- endings (see SessionEnd) ------------------------------------------------------------------

    /** Sends a FATAL error (e.g. admin shutdown) and closes. */
    public void terminate(String sqlState, String message) {
        ch.eventLoop().execute(() -> end.terminate(sqlState, message));
    }

    /**
     * Sends a FATAL error and ends the session at once (the admin console's KILL_CLIENT): nothing the client sends
     * afterwards reaches a backend, and a backend it holds is cleaned up as when a client vanishes (a transaction
     * rolled back, the backend returned).
     */
    public void disconnect(String sqlState, String message) {
        ch.eventLoop().execute(() -> end.disconnect(sqlState, message));
    }

    /**
     * Sends a FATAL error and closes at once, with the backend this client holds (the admin console's KILL): the
     * backend is closed, not rolled back and returned, whatever its state.
     */
    public void kill(String sqlState, String message) {
        ch.eventLoop().execute(() -> end.kill(sqlState, message));
    }

    /**
     * One step of a graceful shutdown, on the client's loop: a client between transactions (holding no
     * backend, or in session mode holding one at rest) is closed with 57P01; one inside a transaction goes on.
     */
    public void drainStep() {
        ch.eventLoop().execute(end::drainStep);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end.closeSession();
        if (inbox != null) {
            inbox.close();
        }
        ListenFanout.dropHeld(this);
        sc.sessions.remove(this);
        if (idleSweep != null) {
            idleSweep.remove(this);
        }
        sc.cancels.unregister(processId, this);
        sc.clients.decrementAndGet();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debugf("%s connection error: %s", id, cause.toString());
        end.close();
    }
}
