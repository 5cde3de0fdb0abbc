package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.PoolException;
import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.SessionState.Event;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * A backend's stay with a client, in order: leased ({@link #onLease}), checked when idle long, restored to the
 * client's parameters ({@link #ready}), relayed to, fixed up after a transaction that changed parameters
 * ({@link #startFixup}), released ({@link #release}). Also the ways a lease ends before any of the client's request
 * reached the server: the pool failed it, or the client canceled it.
 */
final class LeaseCycle {
    private static final Logger LOG = Logger.getLogger(LeaseCycle.class);

    private final ClientSession s;
    /**
     * A cancel came in CHECKING or RESTORING: the request this lease is for is answered 57014 once pgferry's query
     * is over.
     */
    boolean canceledBeforeRelay;
    /** The longest message length a client may send (its configured value when the session began its work). */
    private final int maxMessage;
    /** How long a backend may have been idle before a lease proves it alive first. */
    private final long checkDelayNanos;

    LeaseCycle(ClientSession s, int maxMessage, long checkDelayNanos) {
        this.s = s;
        this.maxMessage = maxMessage;
        this.checkDelayNanos = checkDelayNanos;
    }

    void onLease(ServerConnection c) {
        if (s.state == SessionState.CLOSED) {
            s.pool.release(c);
            return;
        }
        if (System.nanoTime() - c.lastUsedNanos() > checkDelayNanos) {
            // idle long: the server may have closed it meanwhile; an empty query proves it alive first
            s.leased = c;
            s.to(Event.STALE);
            InternalQuery.run(c, "", (conn, r) -> {
                s.leased = null;
                if (s.state == SessionState.CLOSED) {
                    s.end.finishAfterClose(conn, r.ok() && r.status == 'I');
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
                    LOG.debugf("%s: %s failed its liveness check; its request was canceled", s.id, conn);
                    s.pool.discard(conn);
                    canceledBeforeRelay = false;
                    canceledWhileWaiting();
                } else {
                    LOG.debugf("%s: %s failed its liveness check, taking another", s.id, conn);
                    s.pool.discard(conn);
                    s.to(Event.CHECK_FAILED);
                    s.pool.acquire(s.ch.eventLoop(), s);
                }
            });
            return;
        }
        ready(c);
    }

    /**
     * A cancel goes to the backend only while this client's own messages run there (RELAYING): not while pgferry's
     * check, restore or fixup queries run, and never to a backend already given back. Decided on the client's loop,
     * so the backend cannot be released between this check and the forwarder marking the cancel in flight. A client
     * still waiting for a backend (LEASING) has its request withdrawn from the wait queue and answered here, as
     * PostgreSQL answers a statement canceled as it starts (PgBouncer does the same since pgbouncer#1265). One whose
     * backend is still being readied (CHECKING, RESTORING: none of the client's request sent yet) has it withdrawn
     * the same way once that query is over ({@link #canceledBeforeRelay(ServerConnection)}). In FIXUP the client's
     * transaction is over: nothing to cancel.
     */
    void cancel(BiConsumer<ServerConnection, Runnable> forwarder, Runnable done) {
        ServerConnection c = s.leased;
        boolean answered = switch (s.state) {
            case LEASING -> {
                if (!s.pool.withdraw(s.ch.eventLoop(), s)) {
                    yield false;
                }
                LOG.debugf("%s cancel: withdrawn from the wait queue", s.id);
                canceledWhileWaiting();
                done.run();
                yield true;
            }
            case RELAYING -> {
                if (c == null) {
                    yield false;
                }
                LOG.debugf("%s cancel forwarded to %s", s.id, c);
                s.pool.stats().cancelForwarded();
                forwarder.accept(c, () -> {
                    s.pool.stats().cancelOver();
                    done.run();
                });
                yield true;
            }
            case CHECKING, RESTORING -> {
                // (in session mode the one restore runs right after login, and the client keeps this backend: a
                // cancel before its first query reaches the server is lost, as PostgreSQL ignores one that finds its
                // backend idle)
                if (!s.transactionMode) {
                    yield false;
                }
                LOG.debugf("%s cancel: its request is withdrawn once %s is readied", s.id, c);
                canceledBeforeRelay = true;
                done.run();
                yield true;
            }
            default -> false;
        };
        if (!answered) {
            LOG.debugf("%s cancel: nothing running (%s)", s.id, s.stateName());
            done.run();
        }
    }

    /** A leased backend known to be alive: brought to this client's parameters if it needs it, then relayed to. */
    void ready(ServerConnection c) {
        s.leased = c;
        c.listener(s);
        s.tx.reset();
        s.responses.reset();
        s.router.responses.clear();
        s.router.unsettled.clear();
        SessionParameters params = s.params;
        dev.pgferry.backend.ParameterSignature signature = params.signature();
        if (c.syncedTo == signature || !params.needsRestore(c.reported, c.unreported)) {
            c.syncedTo = signature;
            startRelay();
            return;
        }
        List<String> set = new ArrayList<>(2);
        List<String> reset = new ArrayList<>(0);
        String sql = params.restoreSql(c.reported, c.unreported, set, reset);
        s.to(Event.NEEDS_RESTORE);
        LOG.tracef("%s restoring %s on %s", s.id, set, c);
        InternalQuery.run(c, sql, (conn, r) -> restored(conn, r, set, reset));
    }

    private void restored(ServerConnection c, InternalQuery.Result r, List<String> set, List<String> reset) {
        if (r.closed) {
            s.end.backendLost(c);
            return;
        }
        SessionParameters params = s.params;
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
        if (s.state == SessionState.CLOSED) {
            s.end.finishAfterClose(c, r.ok() && r.status == 'I');
            return;
        }
        c.listener(s);
        ByteBuf out = s.ch.alloc().buffer(64);
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
            s.to(Event.RELAY); // the restore query is over: closing cleans up the lease as at rest
            Map<Character, String> e = r.error;
            ServerMessages.errorResponse(out, "FATAL", e.getOrDefault('C', SqlState.INTERNAL_ERROR),
                    e.getOrDefault('M', "could not restore session parameters"));
            s.ch.writeAndFlush(out).addListener(f -> s.end.close());
            return;
        }
        if (out.isReadable()) {
            s.ch.write(out, s.ch.voidPromise());
            s.clientFlush = true;
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
        s.leased = null;
        s.pool.release(c);
        canceledWhileWaiting();
    }

    /** The backend is the client's: relay what it sent meanwhile. */
    void startRelay() {
        s.to(Event.RELAY);
        ServerConnection c = s.leased;
        Slices.autoRead(s.ch, c.channel().isWritable());
        Slices.autoRead(c.channel(), s.ch.isWritable());
        if (s.clientFrames.readableBytes() > 0) {
            s.requests.relay();
            s.flushBackend();
        }
        s.flushClient();
    }

    void onLeaseFailed(PoolException error) {
        if (s.state == SessionState.CLOSED) {
            return;
        }
        // Answer what the client is waiting for: one error, then a ReadyForQuery per Query/Sync it sent.
        int syncs = 0;
        MessageFrameDecoder frames = s.clientFrames;
        while (true) {
            int frame;
            try {
                frame = frames.next();
            } catch (ProtocolException e) {
                break; // refused again, and answered, when the session next reads
            }
            if (frame == FrameDecoder.NEED_MORE) {
                break;
            }
            if (WaitingRequest.endsRequest((byte) frames.peekType())) {
                syncs++;
            }
            frames.skipFrame();
        }
        frames.releaseIfEmpty();
        boolean fatal = error.serverError() && error.sqlState().startsWith("28");
        s.to(syncs == 0 && !fatal ? Event.ANSWERED_BEFORE_SYNC : Event.ANSWERED);
        s.rest();
        ByteBuf out = s.ch.alloc().buffer(128);
        ServerMessages.errorResponse(out, fatal ? "FATAL" : "ERROR", error.sqlState(), error.getMessage());
        if (fatal) {
            s.ch.writeAndFlush(out).addListener(f -> s.end.close());
            return;
        }
        for (int i = 0; i < syncs; i++) {
            ServerMessages.readyForQuery(out, (byte) 'I');
        }
        s.ch.writeAndFlush(out, s.ch.voidPromise());
        s.ch.config().setAutoRead(true);
    }

    /**
     * The request this client waited with, withdrawn by its cancel before any of it reached a backend: ERROR 57014,
     * then ReadyForQuery 'I' (a waiting client holds no transaction) at its Query or Sync, or once its Sync comes,
     * the rest of its batch skipped meanwhile as after a failed lease. What it sent after that request is served.
     */
    void canceledWhileWaiting() {
        ByteBuf out = s.ch.alloc().buffer(64);
        ServerMessages.errorResponse(out, "ERROR", SqlState.QUERY_CANCELED, "canceling statement due to user request");
        boolean ended = false;
        ByteBuf waited = s.clientFrames.buffer();
        if (waited != null) {
            // it skips complete messages only: a header the decoder read is that of an incomplete first one, if any
            WaitingRequest request = WaitingRequest.first(waited, maxMessage);
            waited.skipBytes(request.bytes());
            s.clientFrames.releaseIfEmpty();
            ended = request.ended();
        }
        s.to(ended ? Event.ANSWERED : Event.ANSWERED_BEFORE_SYNC);
        s.rest();
        if (ended) {
            ServerMessages.readyForQuery(out, (byte) 'I');
        }
        s.ch.writeAndFlush(out, s.ch.voidPromise());
        Slices.autoRead(s.ch, true); // reading may have paused while it waited (WAIT_BUFFER_LIMIT)
        if (s.clientFrames.readableBytes() > 0) {
            s.requests.onIdle();
        }
    }

    /**
     * After a transaction that SET or RESET parameters: put startup values back, read unreported ones. A RESET
     * returns the server to its own default, not the client's startup value, in every mode: session mode and a
     * pinned client, which keep their backend, need this too.
     */
    void startFixup(ServerConnection c) {
        s.to(Event.FIXUP);
        ownQueryAhead();
        StatementInspector.Findings taken = s.txEffects.take();
        StatementInspector.Findings f = taken == null ? new StatementInspector.Findings() : taken;
        // a backend that may listen is cleaned before it goes back to the pool (see ListenFanout)
        boolean unlisten = !s.keepsBackend() && (s.backendListens || f.listenOps != null);
        s.backendListens = false;
        if (f.listenOps != null && ListenFanout.on(s)) {
            ListenFanout.settle(s, f.listenOps, () -> {
                if (s.state == SessionState.CLOSED) {
                    if (s.leased == c) {
                        s.end.finishAfterClose(c, false); // gone while the listener subscribed: may listen
                    }
                    return;
                }
                fixup(c, f, unlisten);
            });
            return;
        }
        ListenFanout.dropHeld(s);
        if (s.inbox != null && s.inbox.pendingReached(s.tx.answered())) {
            s.inbox.dropPending(); // no LISTEN of this transaction took effect
        }
        fixup(c, f, unlisten);
    }

    private void fixup(ServerConnection c, StatementInspector.Findings f, boolean unlisten) {
        List<String> setNames = new ArrayList<>();
        List<String> readBack = new ArrayList<>();
        String sql = s.params.fixupSql(f, setNames, readBack);
        if (f.resetAll) {
            c.unreported.clear();
        }
        if (unlisten) {
            sql = sql == null ? "UNLISTEN *" : "UNLISTEN *; " + sql;
        }
        String listens = s.keepsBackend() ? PinnedListens.atEnd(s) : null;
        if (listens != null) {
            sql = sql == null ? listens : listens + sql;
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
        SessionParameters params = s.params;
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
            LOG.debugf("%s: parameter read-back failed on %s: %s", s.id, c, r.error);
            c.markBroken();
        }
        ServerMessages.readyForQuery(out, (byte) 'I');
        s.ch.write(out, s.ch.voidPromise());
        s.router.emitLocalResponses(); // a DEALLOCATE the client sent after the transaction's end
        s.ch.flush();
        if (s.keepsBackend()) {
            startRelay(); // what the client sent meanwhile goes on to its backend
        } else {
            s.to(Event.RELAY);
            release(c);
        }
        if (s.inbox != null) {
            s.inbox.drain(); // right after the ReadyForQuery that ended the transaction
        }
    }

    /**
     * A RESET inside a transaction that goes on: the server set the parameter to its own default, PostgreSQL to
     * the client's startup value. Set that value now, inside the transaction (a ROLLBACK undoes both alike), before
     * the client reads the ReadyForQuery held back here; the transaction's end does the rest (see
     * {@link #startFixup}).
     */
    void startupAfterResets(ServerConnection c, StatementInspector.Findings f) {
        List<String> setNames = new ArrayList<>();
        String sql = s.params.startupAfterResetsSql(f, setNames);
        s.to(Event.FIXUP);
        ownQueryAhead();
        if (sql == null) {
            inTransactionAgain(c, null);
            return;
        }
        InternalQuery.run(c, sql, this::inTransactionAgain);
    }

    /**
     * Before pgferry's own query runs on the leased backend in the middle of a lease: the client gets what was
     * relayed to it so far rather than after that query. Relaying it may have paused reading from the backend (the
     * client's buffer over its high-water mark); {@link InternalQuery} reads its answer regardless, and
     * {@link #startRelay} and {@link #release} set reading right again afterwards.
     */
    private void ownQueryAhead() {
        s.flushClient();
    }

    private void inTransactionAgain(ServerConnection c, InternalQuery.Result r) {
        ByteBuf out = backFromOwnQuery(c, r);
        if (out == null) {
            return;
        }
        if (r != null && !r.ok()) {
            LOG.debugf("%s: startup values after RESET failed on %s: %s", s.id, c, r.error);
            c.markBroken();
        }
        s.tx.status(r == null ? (byte) 'T' : r.status); // 'E' only if pgferry's own SET failed (never seen)
        ServerMessages.readyForQuery(out, s.tx.status());
        s.ch.writeAndFlush(out, s.ch.voidPromise());
        s.rest();
        startRelay(); // what the client sent meanwhile goes on to its backend
    }

    /**
     * pgferry's own query ({@code r}, null if none ran) on the client's backend is over: the backend is the client's
     * again, and the buffer returned holds the ParameterStatus messages of that query that differ from what the
     * client last saw. Null if the session is over (the client left, or the backend was lost).
     */
    private ByteBuf backFromOwnQuery(ServerConnection c, InternalQuery.Result r) {
        if (r != null && r.closed) {
            s.end.backendLost(c);
            return null;
        }
        if (s.state == SessionState.CLOSED) {
            s.end.finishAfterClose(c, false);
            return null;
        }
        c.listener(s);
        ByteBuf out = s.ch.alloc().buffer(64);
        if (r != null) {
            for (String[] kv : r.parameterChanges) {
                if (!kv[1].equals(s.params.reportedValue(kv[0]))) {
                    s.params.reportedChanged(kv[0], kv[1]);
                    ServerMessages.parameterStatus(out, kv[0], kv[1]);
                }
            }
        }
        return out;
    }

    /** The client's transaction is over and its backend not kept: back to the pool, the client idle. */
    void release(ServerConnection c) {
        s.leased = null;
        s.router.responses.clear();
        s.to(Event.RELEASED);
        s.rest();
        s.txEffects.clear();
        s.backendFrames.release();
        // the client may have been too slow for the last response: reading from this backend was then paused,
        // and the next lessee (or the idle pool, which must notice a server closing it) needs it reading again
        Slices.autoRead(c.channel(), true);
        s.pool.release(c);
        Slices.autoRead(s.ch, true);
        if (s.inbox != null) {
            s.inbox.drain(); // the client is between transactions: what waited goes after its ReadyForQuery
        }
        if (s.clientFrames.readableBytes() > 0) {
            s.requests.onIdle();
        }
    }
}
