package dev.pgferry.session;

import dev.pgferry.backend.BackendListener;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig.Pinning;
import dev.pgferry.config.PgferryConfig.PoolMode;
import dev.pgferry.pool.LeaseWaiter;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolException;
import dev.pgferry.protocol.Cumulator;
import dev.pgferry.protocol.Framing;
import dev.pgferry.protocol.FrontendMessages;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * One logged-in client: {@code IDLE ⇄ LEASING → RESTORING → LEASED (→ FIXUP) → IDLE}, then {@code CLOSED}.
 * In IDLE it holds no backend. The first message that needs the server leases one from the pool, brings
 * the backend's parameters to the client's, then relays. Every Query, Sync and FunctionCall sent is
 * answered by one ReadyForQuery; when none is outstanding, nothing unsynced was sent and the status is
 * 'I', the backend goes back to the pool (transaction mode). Runs on the client's event loop, which is
 * also its backend's.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter
        implements BackendListener, LeaseWaiter, CancelRegistry.Target {
    private static final Logger LOG = Logger.getLogger(ClientSession.class);
    private static final int MAX_SERVER_MESSAGE = Integer.MAX_VALUE - 1;
    /** What a client may send while it waits for a backend before pgferry stops reading it. */
    private static final int WAIT_BUFFER_LIMIT = 256 * 1024;

    enum State {
        IDLE,
        LEASING,
        RESTORING,
        LEASED,
        FIXUP,
        CLOSED
    }

    private final SessionContext sc;
    private final Pool pool;
    private final SessionParameters params;
    private final String id;
    /** The user the client logged in as; with a forced user not its pool's ({@link Pool#key()}). */
    private final String user;
    private final byte[] cancelKey;
    private final int processId;
    private final boolean transactionMode;
    private final int maxMessage;
    /** When the client connected (before its login), as PgBouncer's connect_time. */
    private final long connectedMillis;
    private Channel ch;
    private State state = State.IDLE;
    private ByteBuf inbound;
    private ByteBuf backendAcc;
    private volatile ServerConnection leased;
    private int pending;
    private boolean unsynced;
    private boolean copyIn;
    private boolean pinned;
    private boolean discardUntilSync;
    /** The server reported an extended-protocol error and skips every message up to the next Sync not yet relayed. */
    private boolean serverSkipping;
    private boolean serverFatal;
    private boolean backendFlush;
    private boolean clientFlush;
    private byte txStatus = 'I';
    private final TransactionEffects txEffects = new TransactionEffects();
    /** A cancel came in RESTORING: the request this lease is for is answered 57014 once pgferry's query is over. */
    private boolean canceledBeforeRelay;
    private final StatementRouter router;
    private final long checkDelayNanos;
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
        this.user = user;
        this.connectedMillis = connectedMillis;
        this.pool = pool;
        this.params = params;
        this.id = id;
        this.cancelKey = cancelKey;
        this.transactionMode = pool.settings().mode() == PoolMode.TRANSACTION;
        this.maxMessage = sc.config.maxMessageLength();
        this.checkDelayNanos = sc.config.pool().checkDelay().toNanos();
        this.router = new StatementRouter(new StatementRouter.Wire() {
            @Override
            public io.netty.buffer.ByteBufAllocator alloc() {
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
                ClientSession.this.writeRun(c, in, from, to);
            }
        }, Math.max(1, sc.config.prepared().maxPerBackend()), sc.schemaEpoch);
        this.processId = sc.cancels.register(this, backendPid);
    }

    /** Session mode: starts with the backend leased at login, which this client keeps to the end. On its loop. */
    void begin(ServerConnection c) {
        state = State.LEASING;
        ready(c);
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

    /**
     * A cancel goes to the backend only while this client's own messages run there (LEASED): not while pgferry's
     * restore or fixup queries run, and never to a backend already given back. Decided on the client's loop, so
     * the backend cannot be released between this check and the forwarder marking the cancel in flight. A client
     * still waiting for a backend (LEASING) has its request withdrawn from the wait queue and answered here, as
     * PostgreSQL answers a statement canceled as it starts (PgBouncer does the same since pgbouncer#1265). One whose
     * backend is still being readied (RESTORING: pgferry's parameter restore or liveness check, none of the
     * client's request sent yet) has it withdrawn the same way once that query is over, see
     * {@link #canceledBeforeRelay(ServerConnection)}. In FIXUP the client's transaction is over: nothing to cancel.
     */
    @Override
    public void cancel(BiConsumer<ServerConnection, Runnable> forwarder, Runnable done) {
        Channel channel = ch;
        if (channel == null) {
            done.run(); // not yet in its pipeline: nothing sent, nothing to cancel
            return;
        }
        try {
            channel.eventLoop().execute(() -> {
                ServerConnection c = leased;
                if (state == State.LEASING && pool.withdraw(ch.eventLoop(), this)) {
                    LOG.debugf("%s cancel: withdrawn from the wait queue", id);
                    canceledWhileWaiting();
                    done.run();
                } else if (state == State.LEASED && c != null) {
                    LOG.debugf("%s cancel forwarded to %s", id, c);
                    pool.cancelForwarded();
                    forwarder.accept(c, () -> {
                        pool.cancelOver();
                        done.run();
                    });
                } else if (state == State.RESTORING && transactionMode) {
                    // (in session mode the one restore runs right after login, and the client keeps this backend:
                    // a cancel before its first query reaches the server is lost, as PostgreSQL ignores one that
                    // finds its backend idle)
                    LOG.debugf("%s cancel: its request is withdrawn once %s is readied", id, c);
                    canceledBeforeRelay = true;
                    done.run();
                } else {
                    LOG.debugf("%s cancel: nothing running (%s)", id, stateName());
                    done.run();
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

    public String stateName() {
        return state.name().toLowerCase();
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

    private void rest() {
        if (idleSweep != null) {
            restSince = System.nanoTime();
        }
    }

    /** Which idle limit this client has outlived at {@code now}, if any; on its loop. */
    IdleLimits.Verdict idleVerdict(IdleLimits limits, long now) {
        return limits.verdict(state, pending, unsynced, copyIn, txStatus, now - restSince);
    }

    /**
     * Closes a client that outlived an idle limit with FATAL 08P01 and PgBouncer's words. A backend held inside a
     * transaction is rolled back and returned by the same path as when a client vanishes ({@link #cleanupFrom}):
     * nothing of the client's runs there, so the ROLLBACK cannot wait, and the pool gets the backend back without a
     * new connect; a failed ROLLBACK closes it.
     */
    void idleTimeout(IdleLimits.Verdict verdict) {
        if (verdict == IdleLimits.Verdict.NONE || state == State.CLOSED) {
            return;
        }
        (verdict == IdleLimits.Verdict.CLIENT_IDLE ? pool.stats().clientIdleTimeouts : pool.stats().idleTransactionTimeouts).increment();
        LOG.debugf("%s closed: %s", id, verdict.message);
        closeWithFatal(SqlState.PROTOCOL_VIOLATION, verdict.message);
    }

    // ---- client side -------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf data = (ByteBuf) msg;
        if (state == State.CLOSED) {
            data.release();
            return;
        }
        pool.stats().bytesFromClients.add(data.readableBytes());
        inbound = Cumulator.append(ctx.alloc(), inbound, data);
        if (state == State.IDLE) {
            onIdleData();
        } else if (state == State.LEASED) {
            relayClient();
        } else if (inbound.readableBytes() > WAIT_BUFFER_LIMIT) {
            ch.config().setAutoRead(false); // kept until the backend is ready; bounded meanwhile
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushBackend();
        deferClientFlush(); // answers pgferry gave itself (CloseComplete, DEALLOCATE) with nothing else to send
    }

    private void flushBackend() {
        if (backendFlush) {
            backendFlush = false;
            ServerConnection c = leased;
            if (c != null) {
                c.channel().flush();
            }
        }
    }

    /** Data while holding no backend: lease one if a complete message needs the server. */
    private void onIdleData() {
        while (state == State.IDLE && inbound != null) {
            int frame;
            try {
                frame = Framing.messageFrameLength(inbound, maxMessage);
            } catch (ProtocolException e) {
                protocolViolation(e);
                return;
            }
            if (frame == Framing.NEED_MORE) {
                inbound = Cumulator.keepRest(inbound);
                return;
            }
            byte type = inbound.getByte(inbound.readerIndex());
            if (type == ProtocolCodes.TERMINATE) {
                inbound.skipBytes(frame);
                close();
                return;
            }
            if (type == ProtocolCodes.COPY_DATA || type == ProtocolCodes.COPY_DONE || type == ProtocolCodes.COPY_FAIL
                    || type == ProtocolCodes.FLUSH) {
                // No backend of this client is in COPY (its ReadyForQuery came): these are the rest of a COPY the
                // server ended with an error, which PostgreSQL ignores and answers with nothing (PostgresMain: "we
                // probably got here because a COPY failed"). A Flush with nothing outstanding has nothing to send
                // either. Leasing a backend for them would hold it for nothing (until a Sync, for the Flush).
                inbound.skipBytes(frame);
                rest();
                continue;
            }
            if (discardUntilSync) {
                // after a failed lease, the rest of that extended-protocol batch is skipped up to its Sync
                inbound.skipBytes(frame);
                if (type == ProtocolCodes.SYNC) {
                    discardUntilSync = false;
                    rest();
                    ByteBuf out = ch.alloc().buffer(6);
                    ServerMessages.readyForQuery(out, (byte) 'I');
                    ch.writeAndFlush(out, ch.voidPromise());
                }
                continue;
            }
            if (type == ProtocolCodes.QUERY && transactionMode
                    && router.deallocate(null, inbound, inbound.readerIndex(), inbound.readerIndex() + frame)) {
                inbound.skipBytes(frame); // answered without a backend
                deferClientFlush();
                continue;
            }
            // While waiting, reading goes on (toggling it costs two epoll_ctl calls per transaction); a client
            // that sends more than WAIT_BUFFER_LIMIT meanwhile is paused in channelRead.
            state = State.LEASING;
            pool.acquire(ch.eventLoop(), this);
            return;
        }
    }

    @Override
    public void onLease(ServerConnection c) {
        if (state == State.CLOSED) {
            pool.release(c);
            return;
        }
        if (System.nanoTime() - c.lastUsedNanos() > checkDelayNanos) {
            // idle long: the server may have closed it meanwhile; an empty query proves it alive first
            leased = c;
            state = State.RESTORING;
            InternalQuery.run(c, "", (conn, r) -> {
                leased = null;
                if (state == State.CLOSED) {
                    finishAfterClose(conn, r.ok() && r.status == 'I');
                } else if (r.ok() && r.status == 'I') {
                    conn.touch();
                    if (canceledBeforeRelay) {
                        canceledBeforeRelay(conn);
                        return;
                    }
                    // not onLease again: with a check-delay of 0 (check always, as PgBouncer's server_check_delay = 0)
                    // the backend would be checked again, and again, forever
                    ready(conn);
                } else if (canceledBeforeRelay) {
                    LOG.debugf("%s: %s failed its liveness check; its request was canceled", id, conn);
                    pool.discard(conn);
                    canceledBeforeRelay = false;
                    canceledWhileWaiting();
                } else {
                    LOG.debugf("%s: %s failed its liveness check, taking another", id, conn);
                    pool.discard(conn);
                    state = State.LEASING;
                    pool.acquire(ch.eventLoop(), this);
                }
            });
            return;
        }
        ready(c);
    }

    /** A leased backend known to be alive: brought to this client's parameters if it needs it, then relayed to. */
    private void ready(ServerConnection c) {
        leased = c;
        c.listener(this);
        pending = 0;
        unsynced = false;
        copyIn = false;
        serverSkipping = false;
        serverFatal = false;
        txStatus = 'I';
        router.responses.clear();
        router.unsettled.clear();
        dev.pgferry.backend.ParameterSignature signature = params.signature();
        if (c.syncedTo == signature || !params.needsRestore(c.reported, c.unreported)) {
            c.syncedTo = signature;
            startRelay();
            return;
        }
        List<String> set = new ArrayList<>(2);
        List<String> reset = new ArrayList<>(0);
        String sql = params.restoreSql(c.reported, c.unreported, set, reset);
        state = State.RESTORING;
        LOG.tracef("%s restoring %s on %s", id, set, c);
        InternalQuery.run(c, sql, (conn, r) -> restored(conn, r, set, reset));
    }

    private void restored(ServerConnection c, InternalQuery.Result r, List<String> set, List<String> reset) {
        if (r.closed) {
            backendLost(c);
            return;
        }
        if (r.ok()) {
            for (String k : reset) {
                c.unreported.remove(k);
            }
            for (String k : set) {
                if (!params.isReported(k)) {
                    c.unreported.put(k, params.overrides().get(k));
                }
            }
        }
        if (state == State.CLOSED) {
            finishAfterClose(c, r.ok() && r.status == 'I');
            return;
        }
        c.listener(this);
        ByteBuf out = ch.alloc().buffer(64);
        for (String k : set) {
            if (params.isReported(k)) {
                String before = params.reportedValue(k);
                String now = c.reported.get(k);
                if (now != null && r.ok()) {
                    params.reportedChanged(k, now);
                    if (!now.equals(before)) {
                        ServerMessages.parameterStatus(out, k, now);
                    }
                }
            }
        }
        if (!r.ok()) {
            state = State.LEASED; // the restore query is over: closing cleans up the lease as at rest
            Map<Character, String> e = r.error;
            ServerMessages.errorResponse(out, "FATAL", e.getOrDefault('C', SqlState.INTERNAL_ERROR),
                    e.getOrDefault('M', "could not restore session parameters"));
            ch.writeAndFlush(out).addListener(f -> close());
            return;
        }
        if (out.isReadable()) {
            ch.write(out, ch.voidPromise());
            clientFlush = true;
        } else {
            out.release();
        }
        c.syncedTo = params.signature();
        if (canceledBeforeRelay) {
            canceledBeforeRelay(c);
            return;
        }
        startRelay();
    }

    /**
     * The query pgferry ran to ready the leased backend is over, and a cancel came meanwhile: none of the client's
     * request has reached the server, so the backend (at ReadyForQuery 'I', at this client's parameters, as
     * {@code syncedTo} records) goes back to the pool and the request is answered as one withdrawn from the wait
     * queue.
     */
    private void canceledBeforeRelay(ServerConnection c) {
        canceledBeforeRelay = false;
        leased = null;
        pool.release(c);
        canceledWhileWaiting();
    }

    private void startRelay() {
        state = State.LEASED;
        autoRead(ch, leased.channel().isWritable());
        autoRead(leased.channel(), ch.isWritable());
        if (inbound != null) {
            relayClient();
            flushBackend();
        }
        flushClient();
    }

    @Override
    public void onLeaseFailed(PoolException error) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.IDLE;
        rest();
        // Answer what the client is waiting for: one error, then a ReadyForQuery per Query/Sync it sent.
        int syncs = 0;
        while (inbound != null) {
            int frame;
            try {
                frame = Framing.messageFrameLength(inbound, maxMessage);
            } catch (ProtocolException e) {
                break;
            }
            if (frame == Framing.NEED_MORE) {
                break;
            }
            byte t = inbound.getByte(inbound.readerIndex());
            if (WaitingRequest.endsRequest(t)) {
                syncs++;
            }
            inbound.skipBytes(frame);
        }
        inbound = Cumulator.keepRest(inbound);
        boolean fatal = error.serverError() && error.sqlState().startsWith("28");
        ByteBuf out = ch.alloc().buffer(128);
        ServerMessages.errorResponse(out, fatal ? "FATAL" : "ERROR", error.sqlState(), error.getMessage());
        if (fatal) {
            ch.writeAndFlush(out).addListener(f -> close());
            return;
        }
        for (int i = 0; i < syncs; i++) {
            ServerMessages.readyForQuery(out, (byte) 'I');
        }
        discardUntilSync = syncs == 0;
        ch.writeAndFlush(out, ch.voidPromise());
        ch.config().setAutoRead(true);
    }

    /**
     * The request this client waited with, withdrawn by its cancel before any of it reached a backend: ERROR 57014,
     * then ReadyForQuery 'I' (a waiting client holds no transaction) at its Query or Sync, or once its Sync comes,
     * the rest of its batch skipped meanwhile as after a failed lease. What it sent after that request is served.
     */
    private void canceledWhileWaiting() {
        state = State.IDLE;
        rest();
        ByteBuf out = ch.alloc().buffer(64);
        ServerMessages.errorResponse(out, "ERROR", SqlState.QUERY_CANCELED, "canceling statement due to user request");
        if (inbound != null) {
            WaitingRequest request = WaitingRequest.first(inbound, maxMessage);
            inbound.skipBytes(request.bytes());
            inbound = Cumulator.keepRest(inbound);
            discardUntilSync = !request.ended();
        } else {
            discardUntilSync = true;
        }
        if (!discardUntilSync) {
            ServerMessages.readyForQuery(out, (byte) 'I');
        }
        ch.writeAndFlush(out, ch.voidPromise());
        autoRead(ch, true); // reading may have paused while it waited (WAIT_BUFFER_LIMIT)
        if (inbound != null) {
            onIdleData();
        }
    }

    /**
     * Relays every complete client message in {@code inbound} to the leased backend, unmodified runs as one
     * retained slice. Named statements are renamed to their shared server-side names (and prepared on this
     * backend first where it lacks them); everything relayed is recorded in {@link #responses}.
     */
    private void relayClient() {
        if (router.shapes.waiting()) {
            return; // resumed when the server described the copy (onBackendRead)
        }
        ServerConnection c = leased;
        ByteBuf in = inbound;
        final int start = in.readerIndex();
        int runStart = start;
        try {
            relay:
            while (true) {
                int ri = in.readerIndex();
                int frame = Framing.messageFrameLength(in, maxMessage);
                if (frame == Framing.NEED_MORE) {
                    break;
                }
                int end = ri + frame;
                byte type = in.getByte(ri);
                if (serverSkipping && skippedAfterError(type)) {
                    // PostgreSQL skips it unanswered (PostgresMain's ignore_till_sync, Query and FunctionCall
                    // too): relayed as is, with nothing expected back, no statement recorded, nothing answered here
                    unsynced = true;
                    in.readerIndex(end);
                    continue;
                }
                boolean rewritten = false;
                switch (type) {
                    case ProtocolCodes.QUERY -> {
                        if (transactionMode && !unsynced && !copyIn && router.deallocate(c, in, ri, end)) {
                            writeRun(c, in, runStart, ri);
                            rewritten = true; // answered here, in order
                            break;
                        }
                        pending++;
                        unsynced = false;
                        txEffects.requestStart();
                        c.unnamedOwner = null; // a simple query destroys the unnamed statement
                        router.responses.add(ResponseQueue.QUERY, null);
                        if (SchemaEpoch.isSchemaChangeText(in, ri + 5, end)) {
                            router.schemaChange();
                        }
                        StatementInspector.Findings f = StatementInspector.inspect(in, ri + 5, end);
                        if (f != null && runs(f, true)) {
                            writeRun(c, in, runStart, ri);
                            rejectPinning(c, in, ri, frame, f.pinReason);
                            rewritten = true;
                        }
                    }
                    case ProtocolCodes.SYNC -> {
                        if (!copyIn) {
                            pending++;
                            unsynced = false;
                            serverSkipping = false;
                            txEffects.requestStart();
                            router.responses.add(ResponseQueue.SYNC, null);
                        }
                    }
                    case ProtocolCodes.FUNCTION_CALL -> {
                        pending++;
                        unsynced = false;
                        router.responses.add(ResponseQueue.FUNCTION, null);
                    }
                    case ProtocolCodes.PARSE -> {
                        unsynced = true;
                        int nameEnd = MessageReader.skipCstring(in, ri + 5, end);
                        if (SchemaEpoch.isSchemaChangeText(in, nameEnd, end)) {
                            router.schemaChange(); // a named Parse pipelined behind it joins the new generation
                        }
                        // what the statement does to the session is found once, here, and applies at each Bind
                        StatementInspector.Findings f = StatementInspector.inspectShared(in, nameEnd, end);
                        if (f != null && pinRefused(f)) {
                            writeRun(c, in, runStart, ri);
                            router.responses.add(ResponseQueue.PARSE, null);
                            rejectPinning(c, in, ri, frame, f.pinReason);
                            rewritten = true;
                        } else if (nameEnd == ri + 6 || !transactionMode) {
                            // relayed as is: the unnamed statement (remembered, to re-parse it on another backend),
                            // and in session mode every statement, under the client's own name on its own backend
                            if (nameEnd == ri + 6) {
                                // also in session mode: pgferry's own queries (a fixup) destroy it, see InternalQuery
                                router.rememberUnnamed(c, in, nameEnd, end, f);
                            } else {
                                router.sessionParse(in, ri + 5, nameEnd, f);
                            }
                            router.responses.add(ResponseQueue.PARSE, null);
                        } else {
                            writeRun(c, in, runStart, ri);
                            router.namedParse(c, in, ri, nameEnd, end, f, txStatus == 'E');
                            rewritten = true;
                        }
                    }
                    case ProtocolCodes.BIND -> {
                        unsynced = true;
                        int stmt = MessageReader.skipCstring(in, ri + 5, end);
                        PreparedStatement ps = null;
                        StatementInspector.Findings effect;
                        if (!transactionMode && in.getByte(stmt) != 0) {
                            effect = router.sessionEffect(in, stmt, end);
                        } else if (in.getByte(stmt) == 0) {
                            if (router.bindUnnamed(c, in, runStart, ri)) {
                                runStart = ri;
                            }
                            effect = router.unnamedEffect();
                        } else {
                            rewritten = router.rewriteStatementName(c, in, runStart, ri, stmt, end);
                            if (router.shapes.waiting()) {
                                runStart = ri; // this Bind waits for the server's description (ShapeCheck)
                                break relay;
                            }
                            ps = rewritten ? router.lastStatement() : null;
                            effect = ps == null ? null : ps.effect;
                        }
                        if (in.getByte(ri + 5) == 0) {
                            router.shapes.boundUnnamedPortal(ps);
                        }
                        router.responses.add(ResponseQueue.BIND, ps);
                        if (effect != null) {
                            runs(effect, false); // as a Query of its text; a refused pin was refused at its Parse
                        }
                    }
                    case ProtocolCodes.DESCRIBE -> {
                        unsynced = true;
                        if (in.getByte(ri + 5) == 'S' && in.getByte(ri + 6) == 0) {
                            if (router.restoreUnnamed(c, in, runStart, ri)) {
                                runStart = ri;
                            }
                        } else if (in.getByte(ri + 5) == 'S') {
                            rewritten = router.rewriteStatementName(c, in, runStart, ri, ri + 6, end);
                            if (router.shapes.waiting()) {
                                runStart = ri; // this Describe waits for the server's description (ShapeCheck)
                                break relay;
                            }
                        } else if (in.getByte(ri + 6) == 0) {
                            // the unnamed portal: its description gives the row shape of the statement it came from
                            router.responses.add(ResponseQueue.DESCRIBE, router.shapes.portalStatement());
                            break;
                        }
                        router.responses.add(ResponseQueue.DESCRIBE, rewritten ? router.lastStatement() : null);
                    }
                    case ProtocolCodes.CLOSE -> {
                        unsynced = true;
                        if (in.getByte(ri + 5) == 'S' && in.getByte(ri + 6) != 0 && transactionMode) {
                            // the server-side statement is shared: forget the client's name, answer here
                            writeRun(c, in, runStart, ri);
                            router.closeNamed(MessageReader.cstring(in, ri + 6, end));
                            rewritten = true;
                        } else {
                            router.responses.add(ResponseQueue.CLOSE, null);
                        }
                    }
                    case ProtocolCodes.EXECUTE -> {
                        unsynced = true;
                        router.execute(in, ri);
                    }
                    // Flush asks for output and is followed by more and a Sync: the backend is not clean before it.
                    case ProtocolCodes.FLUSH -> unsynced = true;
                    // Outside COPY the server ignores these and waits for nothing: they leave the count as it is.
                    case ProtocolCodes.COPY_DONE, ProtocolCodes.COPY_FAIL -> copyIn = false;
                    case ProtocolCodes.COPY_DATA -> {
                        // relayed as is
                    }
                    case ProtocolCodes.TERMINATE -> {
                        writeRun(c, in, runStart, ri);
                        in.readerIndex(end);
                        close();
                        return;
                    }
                    default -> throw new ProtocolException(SqlState.PROTOCOL_VIOLATION,
                            "invalid frontend message type " + (type & 0xff));
                }
                in.readerIndex(end);
                if (rewritten) {
                    runStart = end;
                }
            }
        } catch (ProtocolException e) {
            writeRun(c, in, runStart, in.readerIndex());
            protocolViolation(e);
            return;
        }
        backendFlush |= in.readerIndex() > runStart;
        inbound = relayRest(c.channel(), in, start, runStart);
        if (!c.channel().isWritable()) {
            ch.config().setAutoRead(false);
        }
    }

    private static boolean skippedAfterError(byte type) {
        return switch (type) {
            case ProtocolCodes.QUERY, ProtocolCodes.FUNCTION_CALL, ProtocolCodes.PARSE, ProtocolCodes.BIND,
                    ProtocolCodes.DESCRIBE, ProtocolCodes.CLOSE, ProtocolCodes.EXECUTE, ProtocolCodes.FLUSH,
                    ProtocolCodes.COPY_DATA, ProtocolCodes.COPY_DONE, ProtocolCodes.COPY_FAIL -> true;
            default -> false;
        };
    }

    private void writeRun(ServerConnection c, ByteBuf in, int from, int to) {
        backendFlush |= writeSlice(c.channel(), in, from, to);
    }

    /** Writes bytes {@code from..to} of {@code in} to {@code out} as a retained slice; whether there were any. */
    private static boolean writeSlice(Channel out, ByteBuf in, int from, int to) {
        if (to <= from) {
            return false;
        }
        out.write(in.retainedSlice(from, to - from), out.voidPromise());
        return true;
    }

    /**
     * After relaying {@code in} up to its reader index: writes the run not yet written ({@code runStart} on) to
     * {@code out} and returns what to keep of {@code in} (null if nothing). When the run is the whole read
     * ({@code start} on) and nothing is left, the buffer itself goes out instead of a slice of it.
     */
    private static ByteBuf relayRest(Channel out, ByteBuf in, int start, int runStart) {
        int end = in.readerIndex();
        if (runStart == start && end > start && !in.isReadable()) {
            in.readerIndex(start);
            out.write(in, out.voidPromise());
            return null;
        }
        writeSlice(out, in, runStart, end);
        return Cumulator.keepRest(in);
    }

    /**
     * What running a statement does to the session: a simple Query's findings ({@code fresh}, owned here) or those a
     * prepared statement got at its Parse, at each Bind of it. Returns true if it must not be sent (it would pin the
     * session and pinning is rejected).
     */
    private boolean runs(StatementInspector.Findings f, boolean fresh) {
        if (pinRefused(f)) {
            return true;
        }
        if (f.dropsPrepared) {
            // DISCARD ALL / DEALLOCATE ALL: the server drops this backend's statements, the client forgets its names
            router.forgetAll(leased, fresh ? pending - 1 : pending); // requests ahead of its own
        }
        if (fresh) {
            // alone: nothing else is answered before this Query's tags, which tell its transaction ends apart
            txEffects.adopt(f, pending == 1 && router.responses.size() == 1);
        } else {
            txEffects.add(f);
        }
        if (f.loadsLibrary && keepsBackend()) {
            leased.markBroken(); // closed, not reset, when this client leaves: see SessionReset
        }
        return false;
    }

    /** Pins the session for a statement that needs it, unless pinning is rejected: then returns true. */
    private boolean pinRefused(StatementInspector.Findings f) {
        if (f.pinReason != null && !pinned && transactionMode) {
            if (sc.config.pool().pinning() == Pinning.REJECT) {
                return true;
            }
            pinned = true;
            sc.pinnedSessions.increment();
            LOG.infof("%s pinned to its server connection by %s (pool %s)", id, f.pinReason, pool.key());
        }
        return false;
    }

    /** Replaces a pinning statement by one the server rejects, so the error lands where PostgreSQL would put it. */
    private void rejectPinning(ServerConnection c, ByteBuf in, int ri, int frame, String reason) {
        String message = "pgferry: " + reason + " is not allowed in transaction pooling mode: it would tie this"
                + " session to one server connection (pgferry.pool.pinning=reject)";
        String sql = "DO $pgferry$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = "
                + SessionParameters.literal(message) + "; END$pgferry$";
        ByteBuf out = ch.alloc().buffer(sql.length() + 32);
        if (in.getByte(ri) == ProtocolCodes.QUERY) {
            FrontendMessages.query(out, sql);
        } else {
            // Parse: keep the statement name, replace the text, declare no parameter types
            int nameEnd = in.indexOf(ri + 5, ri + frame, (byte) 0);
            int start = out.writerIndex();
            out.writeByte(ProtocolCodes.PARSE).writeInt(0);
            out.writeBytes(in, ri + 5, nameEnd - ri - 5 + 1);
            out.writeCharSequence(sql, StandardCharsets.UTF_8);
            out.writeByte(0).writeShort(0);
            out.setInt(start + 1, out.writerIndex() - start - 1);
        }
        c.channel().write(out, c.channel().voidPromise());
        backendFlush = true;
        in.readerIndex(ri + frame);
    }

    // ---- backend side ------------------------------------------------------------------------------

    @Override
    public void onBackendRead(ServerConnection c, ByteBuf data) {
        if (state != State.LEASED || c != leased) {
            data.release();
            return;
        }
        pool.stats().bytesFromServers.add(data.readableBytes());
        backendAcc = Cumulator.append(ch.alloc(), backendAcc, data);
        ByteBuf in = backendAcc;
        final int start = in.readerIndex();
        int runStart = start;
        boolean release = false;
        boolean resumeClient = false;
        while (true) {
            int ri = in.readerIndex();
            int frame;
            try {
                frame = Framing.messageFrameLength(in, MAX_SERVER_MESSAGE);
            } catch (ProtocolException e) {
                LOG.warnf("%s: %s sent an invalid message: %s", id, c, e.getMessage());
                c.markBroken();
                c.close();
                return;
            }
            if (frame == Framing.NEED_MORE) {
                break;
            }
            int end = ri + frame;
            byte type = in.getByte(ri);
            boolean swallow = false;
            boolean popped = true;
            switch (type) {
                case ProtocolCodes.READY_FOR_QUERY -> {
                    router.responses.poll();
                    byte status = in.getByte(ri + 5);
                    txStatus = status;
                    router.readyForQuery(c, status);
                    txEffects.readyForQuery(status);
                    // counted as PgBouncer counts them: a query per ReadyForQuery (a Query, a Sync, a function
                    // call), a transaction per ReadyForQuery 'I', in session mode and within a pipeline too
                    pool.stats().queries.increment();
                    if (status == 'I') {
                        pool.stats().transactions.increment();
                    }
                    if (--pending <= 0) {
                        pending = 0;
                        StatementInspector.Findings resets = unsynced ? null : txEffects.requestAnswered(status, params);
                        if (!unsynced && status == 'I') {
                            boolean keeps = keepsBackend();
                            if (txEffects.needsFixup(params, keeps)) {
                                writeClientRun(in, runStart, ri);
                                in.readerIndex(end);
                                backendAcc = Cumulator.keepRest(in);
                                startFixup(c);
                                return;
                            }
                            if (keeps) {
                                txEffects.clear();
                            } else {
                                release = true;
                            }
                        } else if (!unsynced) {
                            if (resets != null) {
                                writeClientRun(in, runStart, ri);
                                in.readerIndex(end);
                                backendAcc = Cumulator.keepRest(in);
                                startupAfterResets(c, resets);
                                return;
                            }
                            rest(); // the request is over, its transaction open: idle in transaction from now
                        }
                    }
                }
                case ProtocolCodes.PARSE_COMPLETE -> swallow = router.parseComplete();
                case ProtocolCodes.CLOSE_COMPLETE -> swallow = router.responses.poll() == ResponseQueue.CLOSE_INSERTED;
                case ProtocolCodes.BIND_COMPLETE -> router.responses.poll();
                case ProtocolCodes.ROW_DESCRIPTION, 'n', 't' -> {
                    swallow = router.shapes.described(c, in, ri, end);
                    if (swallow) {
                        popped = false;
                        resumeClient |= !router.shapes.waiting();
                    } else {
                        popped = type != 't' && pollIf(ResponseQueue.DESCRIBE);
                    }
                }
                case ProtocolCodes.COMMAND_COMPLETE, 'I', 's' -> {
                    // a COPY FROM STDIN is over at its CommandComplete, also when the client's CopyDone went out
                    // before the server's CopyInResponse came (then nothing else would clear it)
                    copyIn = false;
                    router.unsettled.commandComplete(in, ri, end);
                    router.commandTag(in, ri, end);
                    if (txEffects.watching()) {
                        txEffects.commandComplete(in, ri, end, lastInFlight());
                    }
                    if (router.discardPending()) {
                        router.commandComplete(in, ri, end);
                    }
                    popped = pollIf(ResponseQueue.EXECUTE);
                }
                case ProtocolCodes.ERROR_RESPONSE -> {
                    serverFatal |= isFatal(in, ri, frame);
                    txEffects.error(lastInFlight());
                    router.discardFailed();
                    byte head = router.responses.peek();
                    router.serverError(c, in, ri, end);
                    ByteBuf renamed = router.duplicateError(in, ri, end);
                    if (renamed == null) {
                        renamed = router.shapes.staleError(in, ri, end);
                    }
                    boolean waited = router.shapes.waiting();
                    if (renamed != null) {
                        writeClientRun(in, runStart, ri);
                        ch.write(renamed, ch.voidPromise());
                        clientFlush = true;
                        runStart = end;
                    }
                    copyIn = false; // an error ends COPY
                    if (head != ResponseQueue.QUERY && head != ResponseQueue.FUNCTION) {
                        router.skipToSync(c);
                        // no Sync relayed after the failed message yet: what the client sends until its Sync is
                        // skipped by the server too
                        serverSkipping = router.responses.peek() != ResponseQueue.SYNC;
                    }
                    resumeClient |= waited && !router.shapes.waiting();
                    popped = false;
                }
                case ProtocolCodes.PARAMETER_STATUS -> {
                    popped = false;
                    try {
                        String[] kv = MessageReader.parameterStatus(in, ri);
                        c.syncedTo = null;
                        c.reported.put(kv[0], kv[1]);
                        params.reportedChanged(kv[0], kv[1]);
                    } catch (ProtocolException e) {
                        // relayed as is; the client will judge it
                    }
                }
                case ProtocolCodes.COPY_IN_RESPONSE -> {
                    copyIn = true;
                    popped = false;
                    if (router.responses.peek() == ResponseQueue.EXECUTE) {
                        // The server ignores Sync in copy-in mode (CopyGetData: "for the convenience of client
                        // libraries (such as libpq) that may send those without noticing that the command they
                        // just sent was COPY"): a Sync relayed right after this Execute gets no ReadyForQuery.
                        pending = Math.max(0, pending - router.responses.removeBehindHead(ResponseQueue.SYNC));
                    }
                }
                default -> popped = false;
            }
            if (swallow) {
                writeClientRun(in, runStart, ri);
                runStart = end;
            }
            in.readerIndex(end);
            if (popped) {
                byte head = router.responses.peek();
                if (head == ResponseQueue.PARSE_LOCAL || head == ResponseQueue.CLOSE_LOCAL
                        || head == ResponseQueue.DEALLOCATE_LOCAL) {
                    writeClientRun(in, runStart, end);
                    runStart = end;
                    router.emitLocalResponses();
                }
            }
        }
        clientFlush |= in.readerIndex() > runStart;
        backendAcc = relayRest(ch, in, start, runStart);
        if (!ch.isWritable()) {
            c.channel().config().setAutoRead(false);
        }
        if (release) {
            deferClientFlush();
            releaseBackend(c);
        } else if (resumeClient && state == State.LEASED && inbound != null) {
            relayClient(); // the client's messages that waited for a ShapeCheck
            flushBackend();
        }
    }

    /** Whether nothing the client sent after the request being answered is in flight. */
    private boolean lastInFlight() {
        return pending == 0 || (pending == 1 && !unsynced);
    }

    private boolean pollIf(byte kind) {
        if (router.responses.peek() == kind) {
            router.responses.poll();
            return true;
        }
        return false;
    }

    private static boolean isFatal(ByteBuf in, int ri, int frame) {
        // Severity is the first field PostgreSQL writes: 'S' FATAL or PANIC
        int i = ri + 5;
        return in.getByte(i) == 'S' && frame > 11
                && (in.getByte(i + 1) == 'F' || in.getByte(i + 1) == 'P') && in.getByte(i + 2) == 'A';
    }

    private static void autoRead(Channel channel, boolean on) {
        if (channel.config().isAutoRead() != on) {
            channel.config().setAutoRead(on);
        }
    }

    private void writeClientRun(ByteBuf in, int from, int to) {
        clientFlush |= writeSlice(ch, in, from, to);
    }

    private boolean flushDeferred;

    private void flushClient() {
        if (clientFlush) {
            clientFlush = false;
            ch.flush();
        }
    }

    /** Flushes the client at the end of this event-loop pass (see {@link DeferredFlush}). */
    private void deferClientFlush() {
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
    public void onBackendReadComplete(ServerConnection c) {
        deferClientFlush();
    }

    /** Whether the backend stays with this client between transactions: session mode, or pinned. */
    private boolean keepsBackend() {
        return !transactionMode || pinned;
    }

    /**
     * After a transaction that SET or RESET parameters: put startup values back, read unreported ones. A RESET
     * returns the server to its own default, not the client's startup value, in every mode: session mode and a
     * pinned client, which keep their backend, need this too.
     */
    private void startFixup(ServerConnection c) {
        state = State.FIXUP;
        StatementInspector.Findings f = txEffects.take();
        List<String> setNames = new ArrayList<>();
        List<String> readBack = new ArrayList<>();
        String sql = params.fixupSql(f, setNames, readBack);
        if (f.resetAll) {
            c.unreported.clear();
        }
        if (sql == null) {
            fixedUp(c, null, f, setNames, readBack);
            return;
        }
        InternalQuery.run(c, sql, (conn, r) -> fixedUp(conn, r, f, setNames, readBack));
    }

    private void fixedUp(ServerConnection c, InternalQuery.Result r, StatementInspector.Findings f,
            List<String> setNames, List<String> readBack) {
        // compared with what the client last saw: the RESET ALL's own reports (server defaults) reached it
        ByteBuf out = backFromOwnQuery(c, r);
        if (out == null) {
            return;
        }
        if (f.resetAll) {
            params.resetAll(f.setAfterResetAll);
        }
        if (r != null && r.ok() && r.lastRow != null) {
            for (String k : setNames) {
                if (!params.isReported(k)) {
                    String v = params.startup().get(k);
                    c.unreported.put(k, v);
                    params.unreportedChanged(k, v);
                }
            }
            for (int i = 0; i < readBack.size(); i++) {
                String k = readBack.get(i);
                String v = r.lastRow.get(setNames.size() + i);
                params.unreportedChanged(k, v);
                if (v == null) {
                    c.unreported.remove(k);
                } else {
                    c.unreported.put(k, v);
                }
            }
        } else if (r != null) {
            LOG.debugf("%s: parameter read-back failed on %s: %s", id, c, r.error);
            c.markBroken();
        }
        ServerMessages.readyForQuery(out, (byte) 'I');
        ch.write(out, ch.voidPromise());
        router.emitLocalResponses(); // a DEALLOCATE the client sent after the transaction's end
        ch.flush();
        state = State.LEASED;
        if (keepsBackend()) {
            startRelay(); // what the client sent meanwhile goes on to its backend
        } else {
            releaseBackend(c);
        }
    }

    /**
     * A RESET inside a transaction that goes on: the server set the parameter to its own default, PostgreSQL to
     * the client's startup value. Set that value now, inside the transaction (a ROLLBACK undoes both alike), before
     * the client reads the ReadyForQuery held back here; the transaction's end does the rest (see
     * {@link #startFixup}).
     */
    private void startupAfterResets(ServerConnection c, StatementInspector.Findings f) {
        List<String> setNames = new ArrayList<>();
        String sql = params.startupAfterResetsSql(f, setNames);
        state = State.FIXUP;
        if (sql == null) {
            inTransactionAgain(c, null);
            return;
        }
        InternalQuery.run(c, sql, this::inTransactionAgain);
    }

    private void inTransactionAgain(ServerConnection c, InternalQuery.Result r) {
        ByteBuf out = backFromOwnQuery(c, r);
        if (out == null) {
            return;
        }
        if (r != null && !r.ok()) {
            LOG.debugf("%s: startup values after RESET failed on %s: %s", id, c, r.error);
            c.markBroken();
        }
        txStatus = r == null ? (byte) 'T' : r.status; // 'E' only if pgferry's own SET failed (never seen)
        ServerMessages.readyForQuery(out, txStatus);
        ch.writeAndFlush(out, ch.voidPromise());
        rest();
        startRelay(); // what the client sent meanwhile goes on to its backend
    }

    /**
     * pgferry's own query ({@code r}, null if none ran) on the client's backend is over: the backend is the client's
     * again, and the buffer returned holds the ParameterStatus messages of that query that differ from what the
     * client last saw. Null if the session is over (the client left, or the backend was lost).
     */
    private ByteBuf backFromOwnQuery(ServerConnection c, InternalQuery.Result r) {
        if (r != null && r.closed) {
            backendLost(c);
            return null;
        }
        if (state == State.CLOSED) {
            finishAfterClose(c, false);
            return null;
        }
        c.listener(this);
        ByteBuf out = ch.alloc().buffer(64);
        reportChanges(r, out);
        return out;
    }

    private void reportChanges(InternalQuery.Result r, ByteBuf out) {
        if (r == null) {
            return;
        }
        for (String[] kv : r.parameterChanges) {
            if (!kv[1].equals(params.reportedValue(kv[0]))) {
                params.reportedChanged(kv[0], kv[1]);
                ServerMessages.parameterStatus(out, kv[0], kv[1]);
            }
        }
    }

    private void releaseBackend(ServerConnection c) {
        leased = null;
        router.responses.clear();
        state = State.IDLE;
        rest();
        txEffects.clear();
        if (backendAcc != null) {
            backendAcc.release();
            backendAcc = null;
        }
        // the client may have been too slow for the last response: reading from this backend was then paused,
        // and the next lessee (or the idle pool, which must notice a server closing it) needs it reading again
        autoRead(c.channel(), true);
        pool.release(c);
        autoRead(ch, true);
        if (inbound != null) {
            onIdleData();
        }
    }

    @Override
    public void onBackendClosed(ServerConnection c, Throwable cause) {
        backendLost(c);
    }

    private void backendLost(ServerConnection c) {
        if (leased == c) {
            leased = null;
            pool.discard(c);
        }
        if (state == State.CLOSED) {
            return;
        }
        if (!serverFatal) {
            ByteBuf out = ServerMessages.errorResponse(ch.alloc(), "FATAL", SqlState.CONNECTION_FAILURE,
                    "server closed the connection unexpectedly");
            ch.write(out, ch.voidPromise());
        }
        flushClient();
        ch.flush();
        close();
    }

    @Override
    public void onBackendWritabilityChanged(ServerConnection c, boolean writable) {
        if (state == State.LEASED) {
            ch.config().setAutoRead(writable);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ServerConnection c = leased;
        if (c != null && state == State.LEASED) {
            c.channel().config().setAutoRead(ch.isWritable());
        }
    }

    // ---- endings -----------------------------------------------------------------------------------

    private void protocolViolation(ProtocolException e) {
        sc.protocolErrors.increment();
        ServerConnection c = leased;
        if (c != null) {
            c.markBroken(); // part of a batch may have reached it: its state is unknown
        }
        LOG.debugf("%s protocol violation: %s", id, e.getMessage());
        closeWithFatal(e.sqlState(), e.getMessage());
    }

    /**
     * Sends a FATAL error, closes the connection once it is written, and ends the session now: the backend it holds
     * goes back (or away, if marked broken) without waiting for the client to read the error.
     */
    private void closeWithFatal(String sqlState, String message) {
        ByteBuf out = ServerMessages.errorResponse(ch.alloc(), "FATAL", sqlState, message);
        ch.writeAndFlush(out).addListener(f -> close());
        closeSession();
    }

    /** Sends a FATAL error (e.g. admin shutdown) and closes. */
    public void terminate(String sqlState, String message) {
        ch.eventLoop().execute(() -> {
            if (state == State.CLOSED) {
                return;
            }
            ByteBuf out = ServerMessages.errorResponse(ch.alloc(), "FATAL", sqlState, message);
            ch.writeAndFlush(out).addListener(f -> close());
        });
    }

    /**
     * Sends a FATAL error and ends the session at once (the admin console's KILL_CLIENT): nothing the client sends
     * afterwards reaches a backend, and a backend it holds is cleaned up as when a client vanishes (a transaction
     * rolled back, the backend returned).
     */
    public void disconnect(String sqlState, String message) {
        ch.eventLoop().execute(() -> {
            if (state != State.CLOSED) {
                LOG.debugf("%s disconnected: %s", id, message);
                closeWithFatal(sqlState, message);
            }
        });
    }

    /**
     * Sends a FATAL error and closes at once, with the backend this client holds (the admin console's KILL): the
     * backend is closed, not rolled back and returned, whatever its state.
     */
    public void kill(String sqlState, String message) {
        ch.eventLoop().execute(() -> {
            if (state == State.CLOSED) {
                return;
            }
            if (leased != null) {
                leased.markBroken(); // discarded below, or by the callback of the check or restore under way
            }
            LOG.debugf("%s killed: %s", id, message);
            closeWithFatal(sqlState, message);
        });
    }

    /**
     * One step of a graceful shutdown, on the client's loop: a client between transactions (holding no
     * backend, or in session mode holding one at rest) is closed with 57P01; one inside a transaction goes on.
     */
    public void drainStep() {
        ch.eventLoop().execute(() -> {
            boolean atRest = state == State.IDLE
                    || (state == State.LEASED && pending == 0 && !unsynced && !copyIn && txStatus == 'I');
            if (atRest) {
                ByteBuf out = ServerMessages.errorResponse(ch.alloc(), "FATAL", SqlState.ADMIN_SHUTDOWN,
                        "terminating connection due to administrator command");
                ch.writeAndFlush(out).addListener(f -> close());
            }
        });
    }

    private void close() {
        ch.close();
        closeSession();
    }

    /** Marks the session closed and cleans up according to the state it was in (once). */
    private void closeSession() {
        if (state != State.CLOSED) {
            State was = state;
            state = State.CLOSED;
            cleanupFrom(was);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeSession();
        sc.sessions.remove(this);
        if (idleSweep != null) {
            idleSweep.remove(this);
        }
        sc.cancels.unregister(processId, this);
        sc.clients.decrementAndGet();
        ctx.fireChannelInactive();
    }

    /** The client is gone: its backend is rolled back and returned, or discarded, never returned dirty. */
    private void cleanupFrom(State was) {
        if (inbound != null) {
            inbound.release();
            inbound = null;
        }
        if (backendAcc != null) {
            backendAcc.release();
            backendAcc = null;
        }
        if (was == State.LEASING) {
            // gone while waiting: out of the wait queue now, not counted as waiting until its timeout; if a backend
            // is already on its way, onLease gives it back
            pool.withdraw(ch.eventLoop(), this);
        }
        ServerConnection c = leased;
        if (c == null || was != State.LEASED) {
            return; // LEASING: onLease returns it; RESTORING/FIXUP: their callbacks finish it
        }
        if (pending != 0 || unsynced || copyIn || c.isBroken()) {
            leased = null;
            pool.discard(c);
            return;
        }
        ServerConnection conn = c;
        boolean inTransaction = txStatus != 'I';
        String sql = inTransaction ? "ROLLBACK" : null;
        boolean discardAll = !transactionMode || pinned;
        if (sql == null && !discardAll) {
            leased = null;
            pool.release(conn);
            return;
        }
        if (sql == null) {
            runDiscardAll(conn);
            return;
        }
        InternalQuery.run(conn, sql, (cc, r) -> {
            if (!r.ok() || r.status != 'I') {
                finishAfterClose(cc, false);
                return;
            }
            router.unsettled.rolledBack(cc);
            if (discardAll) {
                runDiscardAll(cc);
            } else {
                finishAfterClose(cc, true);
            }
        });
    }

    private void runDiscardAll(ServerConnection conn) {
        SessionReset.run(conn, id, this::finishAfterClose);
    }

    private void finishAfterClose(ServerConnection c, boolean clean) {
        leased = null;
        if (clean) {
            pool.release(c);
        } else {
            pool.discard(c);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debugf("%s connection error: %s", id, cause.toString());
        close();
    }
}
