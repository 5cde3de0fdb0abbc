package dev.pgferry.session;

import dev.pgferry.config.PgferryConfig.ListenMode;
import dev.pgferry.notify.NotifyInbox;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a session meets the LISTEN/NOTIFY fan-out ({@code pgferry.pool.listen=fanout}, transaction mode). LISTEN and
 * UNLISTEN run on the leased backend like any statement: PostgreSQL checks them, answers them with its own tag, and
 * makes them take effect only if their transaction commits. What a committed transaction listened to is then moved to
 * the database's listener connection ({@link NotifyInbox}) before the client sees its ReadyForQuery, and the backend
 * is cleaned with {@code UNLISTEN *} before it goes back to the pool, so no other client inherits a subscription. A
 * NotificationResponse from a pooled backend meanwhile is dropped: the client's notifications come from the listener.
 */
final class ListenFanout {
    private ListenFanout() {}

    /** Whether this session's LISTENs go to the fan-out (transaction mode with {@code listen=fanout}). */
    static boolean on(ClientSession s) {
        return s.transactionMode && s.sc.config.pool().listen() == ListenMode.FANOUT;
    }

    /**
     * Whether the transaction that just ended leaves work for the fan-out: a settled LISTEN, a listening backend, or
     * channels subscribed ahead of a commit.
     */
    static boolean needsFixup(ClientSession s) {
        return s.backendListens || s.fanoutToBackendAtEnd || (s.txEffects.listenSettled() && on(s))
                || (s.inbox != null && s.inbox.pendingReached(s.tx.answered()));
    }

    /**
     * Before a statement that LISTENs is relayed: the listener subscribes the client to its new channels first, so
     * that it listens before the statement's transaction can commit (PostgreSQL delivers every notification committed
     * after that commit; one committed between the client's commit and a LISTEN of the listener's own would be lost).
     * What it reads for them is held until the transaction's end ({@code PendingListens}). True if the relay must wait
     * for it (then it goes on by itself).
     */
    static boolean subscribesFirst(ClientSession s, StatementInspector.Findings f) {
        if (f.listenOps == null || f.pinReason != null || !f.listens() || s.keepsBackend() || !on(s)) {
            return false;
        }
        List<String> add = new ArrayList<>(f.listenOps.size());
        for (String op : f.listenOps) {
            if (op.charAt(0) == '+') {
                add.add(op.substring(1));
            }
        }
        s.relayHeld = true;
        boolean waits = inbox(s).prepare(add, s.tx.sent() + 1, () -> {
            s.relayHeld = false;
            if (s.state == SessionState.RELAYING && s.leased != null) {
                s.requests.relay();
                s.flushBackend();
            }
        });
        if (!waits) {
            s.relayHeld = false;
        }
        return waits;
    }

    /** A ReadyForQuery 'I' came: the transaction of channels subscribed ahead (if any) ended with that request. */
    static void transactionEnded(ClientSession s) {
        if (s.inbox != null && s.inbox.hasPending()) {
            s.inbox.transactionEnded(s.tx.answered());
        }
    }

    /**
     * The committed LISTEN/UNLISTEN operations of the transaction that just ended take effect; {@code then} runs on
     * the client's loop once every new channel is listened on. For a client that keeps its backend (pinned) they ran
     * there: the fan-out only forgets the channels they name.
     */
    static void settle(ClientSession s, List<String> ops, Runnable then) {
        List<ByteBuf> held = s.heldFromBackend;
        s.heldFromBackend = null;
        if (s.keepsBackend()) {
            if (s.inbox != null) {
                s.inbox.movedToBackend(ops);
            }
            dropHeld(held);
            then.run();
            return;
        }
        NotifyInbox inbox = inbox(s);
        inbox.apply(ops, held, inbox.pendingReached(s.tx.answered()), then);
    }

    /**
     * A NotificationResponse the leased backend sent (it listens since a LISTEN of this transaction committed): kept,
     * as it may be one the listener connection never gets (the client's own NOTIFY in that transaction), till the
     * transaction's LISTENs are settled. Bounded like what waits for the client.
     */
    static void hold(ClientSession s, ByteBuf in, int ri, int frame) {
        if (s.heldFromBackend == null) {
            s.heldFromBackend = new ArrayList<>(2);
        }
        if (s.heldFromBackend.size() < s.sc.config.notifications().maxQueued()) {
            s.heldFromBackend.add(in.copy(ri, frame));
        }
    }

    /** The kept notifications are not needed: no LISTEN of this client settled, or it left. */
    static void dropHeld(ClientSession s) {
        List<ByteBuf> held = s.heldFromBackend;
        s.heldFromBackend = null;
        dropHeld(held);
    }

    private static void dropHeld(List<ByteBuf> held) {
        if (held != null) {
            held.forEach(ByteBuf::release);
        }
    }

    private static NotifyInbox inbox(ClientSession s) {
        if (s.inbox == null) {
            s.inbox = new NotifyInbox(s.sc.notify, s.pool, s.ch, s.sc.config.notifications().maxQueued(),
                    new NotifyInbox.Client() {
                        @Override
                        public boolean betweenTransactions() {
                            return s.betweenTransactions();
                        }

                        @Override
                        public long requestsSent() {
                            return s.tx.sent();
                        }

                        @Override
                        public void closeWithFatal(String sqlState, String message) {
                            if (s.state != SessionState.CLOSED) {
                                s.end.closeWithFatal(sqlState, message);
                            }
                        }
                    });
        }
        return s.inbox;
    }
}
