package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.notify.NotifyInbox;
import io.netty.buffer.ByteBuf;
import java.util.Collection;
import org.jboss.logging.Logger;

/**
 * A client whose channels are on the fan-out's listener ({@link ListenFanout}) gets pinned to its backend
 * ({@code pg_listening_channels()}, or any other pinning statement). PostgreSQL's {@code pg_listening_channels()}
 * reads the backend's own listen list, which knows nothing of the fan-out: so the pinned backend LISTENs on those
 * channels too, and answers for them exactly from then on. Delivery does not move: the fan-out keeps delivering those
 * channels, and the backend's copies of their notifications are dropped ({@link #deliveredByFanout}), so none is
 * delivered twice or missed while subscriptions would change hands.
 *
 * <p>When the backend is at rest outside a transaction as the pinning statement comes, the LISTENs run (and commit)
 * before it is relayed: exact at once. Inside a transaction (or behind other requests of a pipeline) a LISTEN would
 * take effect only at its commit, after the statement read the list: the LISTENs then run at the transaction's end,
 * that one answer lacks the fan-out's channels, and the log says so.
 */
final class PinnedListens {
    private static final Logger LOG = Logger.getLogger(PinnedListens.class);

    private PinnedListens() {}

    /** Whether a fan-out client is about to be pinned with channels its backend does not listen on. */
    static boolean needed(ClientSession s) {
        return s.transactionMode && !s.pinned && !s.fanoutOnBackend && s.inbox != null
                && !s.inbox.channels().isEmpty();
    }

    /**
     * Before the statement that pins (not yet relayed): with the backend at rest outside a transaction, its LISTENs
     * run now and relaying waits for them; true if so (the caller stops relaying at that statement).
     */
    static boolean copyFirst(ClientSession s, ServerConnection c) {
        if (!needed(s) || !s.tx.atRest() || s.tx.inTransaction()) {
            return false;
        }
        // pgferry's own query on the leased backend, as a fixup: a client leaving meanwhile leaves the backend to
        // the callback (SessionEnd), and what it sends waits
        s.to(SessionState.Event.FIXUP);
        InternalQuery.run(c, listenSql(s.inbox.channels()), (conn, r) -> {
            if (r.closed) {
                s.end.backendLost(conn);
                return;
            }
            if (s.state == SessionState.CLOSED) {
                s.end.finishAfterClose(conn, false); // it listens now: not for another client
                return;
            }
            conn.listener(s);
            if (!r.ok()) {
                LOG.infof("%s: could not LISTEN on its fan-out channels on %s: %s", s.id, conn, r.error.get('M'));
            } else {
                s.fanoutOnBackend = true;
            }
            s.lease.startRelay(); // relays the statement that pins, and what came after it
            s.flushBackend();
        });
        return true;
    }

    /** The client was just pinned by {@code reason}; its channels not copied yet go at the transaction's end. */
    static void pinned(ClientSession s, StatementInspector.Findings f, String reason) {
        if (s.fanoutOnBackend || s.inbox == null || s.inbox.channels().isEmpty()) {
            return;
        }
        s.fanoutToBackendAtEnd = true;
        if (f.readsListening) {
            LOG.infof("%s: pg_listening_channels() inside a transaction lacks the %d channel(s) this client listens on"
                    + " through the fan-out (pinned by %s; exact from its next transaction)", s.id,
                    s.inbox.channels().size(), reason);
        }
    }

    /** The LISTENs the transaction's end adds to its fixup, or null; done from then on. */
    static String atEnd(ClientSession s) {
        if (!s.fanoutToBackendAtEnd) {
            return null;
        }
        s.fanoutToBackendAtEnd = false;
        if (s.inbox == null || s.inbox.channels().isEmpty()) {
            return null;
        }
        s.fanoutOnBackend = true;
        return listenSql(s.inbox.channels());
    }

    /** Whether a notification from the pinned backend is one the fan-out delivers: then it is dropped. */
    static boolean deliveredByFanout(ClientSession s, ByteBuf in, int ri, int frame) {
        return s.inbox != null && !s.inbox.channels().isEmpty()
                && s.inbox.channels().contains(NotifyInbox.channelOf(in, ri, ri + frame));
    }

    /**
     * A NotificationResponse the client's backend sent while pgferry ran a query of its own there (a fixup, a
     * restore): what the relay does with one ({@link ResponseRelay}), so that a client whose backend is its only
     * source of notifications (pinned, session mode) misses none. It is between the client's transactions, where
     * PostgreSQL delivers them too.
     */
    static void arrivedDuringQuery(ClientSession s, ByteBuf in, int ri, int frame) {
        if (!s.keepsBackend()) {
            s.backendListens = true;
            ListenFanout.hold(s, in, ri, frame);
        } else if (!deliveredByFanout(s, in, ri, frame) && s.ch != null && s.ch.isActive()) {
            s.ch.writeAndFlush(in.copy(ri, frame), s.ch.voidPromise());
        }
    }

    private static String listenSql(Collection<String> channels) {
        StringBuilder sql = new StringBuilder();
        for (String ch : channels) {
            sql.append("LISTEN ").append('"').append(ch.replace("\"", "\"\"")).append("\";");
        }
        return sql.toString();
    }
}
