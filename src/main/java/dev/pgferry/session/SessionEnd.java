package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.SessionState.Event;
import io.netty.buffer.ByteBuf;
import org.jboss.logging.Logger;

/**
 * Every way a session ends, and what becomes of the backend it holds: the client leaves or breaks the protocol, an
 * operator kills or drains it, an idle limit runs out, or its backend is lost. A backend goes back to the pool only
 * clean (rolled back, reset where the client kept it), otherwise it is discarded; never returned dirty.
 */
final class SessionEnd {
    private static final Logger LOG = Logger.getLogger(SessionEnd.class);

    private final ClientSession s;

    SessionEnd(ClientSession s) {
        this.s = s;
    }

    void protocolViolation(ProtocolException e) {
        s.sc.protocolErrors.increment();
        ServerConnection c = s.leased;
        if (c != null) {
            c.markBroken(); // part of a batch may have reached it: its state is unknown
        }
        LOG.debugf("%s protocol violation: %s", s.id, e.getMessage());
        closeWithFatal(e.sqlState(), e.getMessage());
    }

    /**
     * Closes a client that outlived an idle limit with FATAL 08P01 and PgBouncer's words. A backend held inside a
     * transaction is rolled back and returned by the same path as when a client vanishes ({@link #cleanupFrom}):
     * nothing of the client's runs there, so the ROLLBACK cannot wait, and the pool gets the backend back without a
     * new connect; a failed ROLLBACK closes it.
     */
    void idleTimeout(IdleLimits.Verdict verdict) {
        if (verdict == IdleLimits.Verdict.NONE || s.state == SessionState.CLOSED) {
            return;
        }
        (verdict == IdleLimits.Verdict.CLIENT_IDLE ? s.pool.stats().clientIdleTimeouts : s.pool.stats().idleTransactionTimeouts)
                .increment();
        LOG.debugf("%s closed: %s", s.id, verdict.message);
        closeWithFatal(SqlState.PROTOCOL_VIOLATION, verdict.message);
    }

    /**
     * Sends a FATAL error, closes the connection once it is written, and ends the session now: the backend it holds
     * goes back (or away, if marked broken) without waiting for the client to read the error.
     */
    void closeWithFatal(String sqlState, String message) {
        ByteBuf out = ServerMessages.errorResponse(s.ch.alloc(), "FATAL", sqlState, message);
        s.ch.writeAndFlush(out).addListener(f -> close());
        closeSession();
    }

    /** Sends a FATAL error (e.g. admin shutdown) and closes once it is written. */
    void terminate(String sqlState, String message) {
        if (s.state == SessionState.CLOSED) {
            return;
        }
        ByteBuf out = ServerMessages.errorResponse(s.ch.alloc(), "FATAL", sqlState, message);
        s.ch.writeAndFlush(out).addListener(f -> close());
    }

    /** The admin console's KILL_CLIENT: see {@link ClientSession#disconnect}. */
    void disconnect(String sqlState, String message) {
        if (s.state != SessionState.CLOSED) {
            LOG.debugf("%s disconnected: %s", s.id, message);
            closeWithFatal(sqlState, message);
        }
    }

    /** The admin console's KILL: see {@link ClientSession#kill}. */
    void kill(String sqlState, String message) {
        if (s.state == SessionState.CLOSED) {
            return;
        }
        if (s.leased != null) {
            s.leased.markBroken(); // discarded below, or by the callback of the check or restore under way
        }
        LOG.debugf("%s killed: %s", s.id, message);
        closeWithFatal(sqlState, message);
    }

    /**
     * One step of a graceful shutdown: a client between transactions (holding no backend, or in session mode
     * holding one at rest) is closed with 57P01; one inside a transaction goes on.
     */
    void drainStep() {
        boolean atRest = s.state.holdsNothing()
                || (s.state == SessionState.RELAYING && s.tx.atRest() && !s.tx.inTransaction());
        if (atRest) {
            ByteBuf out = ServerMessages.errorResponse(s.ch.alloc(), "FATAL", SqlState.ADMIN_SHUTDOWN,
                    "terminating connection due to administrator command");
            s.ch.writeAndFlush(out).addListener(f -> close());
        }
    }

    void close() {
        s.ch.close();
        closeSession();
    }

    /** Marks the session closed and cleans up according to the state it was in (once). */
    void closeSession() {
        if (s.state != SessionState.CLOSED) {
            SessionState was = s.state;
            s.to(Event.CLOSE);
            cleanupFrom(was);
        }
    }

    /** The client is gone: its backend is rolled back and returned, or discarded, never returned dirty. */
    private void cleanupFrom(SessionState was) {
        if (s.clientFrames != null) { // null if it never sent a message (ClientSession#startWork)
            s.clientFrames.release();
            s.backendFrames.release();
        }
        if (was == SessionState.LEASING) {
            // gone while waiting: out of the wait queue now, not counted as waiting until its timeout; if a backend
            // is already on its way, onLease gives it back
            s.pool.withdraw(s.ch.eventLoop(), s);
        }
        ServerConnection c = s.leased;
        if (c == null || was != SessionState.RELAYING) {
            return; // LEASING: onLease returns it; CHECKING/RESTORING/FIXUP: their callbacks finish it
        }
        if (!s.tx.atRest() || c.isBroken()) {
            s.leased = null;
            s.pool.discard(c);
            return;
        }
        boolean inTransaction = s.tx.inTransaction();
        boolean discardAll = s.keepsBackend();
        if (!inTransaction && !discardAll) {
            s.leased = null;
            s.pool.release(c);
            return;
        }
        if (!inTransaction) {
            runDiscardAll(c);
            return;
        }
        InternalQuery.run(c, "ROLLBACK", (cc, r) -> {
            if (!r.ok() || r.status != 'I') {
                finishAfterClose(cc, false);
                return;
            }
            s.router.unsettled.rolledBack(cc);
            if (discardAll) {
                runDiscardAll(cc);
            } else {
                finishAfterClose(cc, true);
            }
        });
    }

    private void runDiscardAll(ServerConnection conn) {
        SessionReset.run(conn, s.id, this::finishAfterClose);
    }

    void finishAfterClose(ServerConnection c, boolean clean) {
        s.leased = null;
        if (clean) {
            s.pool.release(c);
        } else {
            s.pool.discard(c);
        }
    }

    /** The backend closed, or pgferry's own query found it gone: the client gets 08006 (or the server's FATAL). */
    void backendLost(ServerConnection c) {
        if (s.leased == c) {
            s.leased = null;
            s.pool.discard(c);
        }
        if (s.state == SessionState.CLOSED) {
            return;
        }
        if (s.responses == null || !s.responses.serverFatal) {
            ByteBuf out = ServerMessages.errorResponse(s.ch.alloc(), "FATAL", SqlState.CONNECTION_FAILURE,
                    "server closed the connection unexpectedly");
            s.ch.write(out, s.ch.voidPromise());
        }
        s.flushClient();
        s.ch.flush();
        close();
    }
}
