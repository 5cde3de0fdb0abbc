package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import io.netty.buffer.ByteBuf;

/**
 * The shared statements the server confirmed preparing (ParseComplete) on the leased backend since it was last at
 * rest ('I'), and whether the transaction they were prepared in rolls back.
 * <p>
 * PostgreSQL keeps a prepared statement when the transaction that prepared it rolls back, but not the objects that
 * transaction created: {@code SELECT $1::e} prepared in the transaction that ran {@code CREATE TYPE e} refers to a
 * type OID that no longer exists once it rolls back, and every later Bind of it fails with "cache lookup failed for
 * type N". Its own client would learn that; the next client preparing the same text on this backend would get the
 * shared copy and fail the same way, where PostgreSQL would have parsed its text afresh. Which objects a statement
 * depends on and whether they outlive the transaction cannot be known from outside, so the rule is the simplest
 * sound one: statements first prepared here inside a transaction that ends in a rollback — an error (the implicit
 * transaction of an extended-protocol batch, or an aborted block), a {@code ROLLBACK} (also the answer to a COMMIT of
 * an aborted block, and to {@code ROLLBACK TO SAVEPOINT}, which may undo the objects as well), or pgferry's own
 * ROLLBACK of a client that vanished — are marked stale in the backend's cache ({@link SharedStatements#STALE}): the
 * client that prepared one keeps it, as on PostgreSQL, and the next Parse of the text prepares it afresh under another
 * server name. A false alarm (the objects predate the transaction) costs one Parse.
 * <p>
 * Counted on the response side, so the order of ParseComplete, ErrorResponse, CommandComplete and ReadyForQuery is the
 * server's, also when batches are pipelined. Nothing is done per message while the list is empty.
 */
final class UnsettledStatements {
    enum Outcome {
        /** Nothing seen yet that rolls the transaction back. */
        OPEN,
        ROLLED_BACK
    }

    private static final byte[] ROLLBACK_TAG = {'R', 'O', 'L', 'L', 'B', 'A', 'C', 'K', 0};

    /** Null until a first name (most clients never prepare inside a transaction that rolls back). */
    private String[] names;
    private int size;
    private Outcome outcome = Outcome.OPEN;

    /** The server prepared {@code serverName} here (its ParseComplete came). */
    void prepared(String serverName) {
        if (names == null) {
            names = new String[2];
        } else if (size == names.length) {
            names = java.util.Arrays.copyOf(names, size * 2);
        }
        names[size++] = serverName;
    }

    int size() {
        return size;
    }

    Outcome outcome() {
        return outcome;
    }

    /** An ErrorResponse: the transaction (implicit or explicit) rolls back, at least to a savepoint. */
    void error() {
        if (size > 0) {
            outcome = Outcome.ROLLED_BACK;
        }
    }

    /** A CommandComplete at {@code [ri, end)}: {@code ROLLBACK} (whatever it ended) rolls the statements back. */
    void commandComplete(ByteBuf in, int ri, int end) {
        if (size == 0 || end - ri - 5 != ROLLBACK_TAG.length) {
            return;
        }
        for (int k = 0; k < ROLLBACK_TAG.length; k++) {
            if (in.getByte(ri + 5 + k) != ROLLBACK_TAG[k]) {
                return;
            }
        }
        outcome = Outcome.ROLLED_BACK;
    }

    /** ReadyForQuery: at 'I' the transaction is over, and its statements are kept or marked stale. */
    void readyForQuery(ServerConnection c, byte status) {
        if (size == 0) {
            return;
        }
        if (status == 'E') {
            outcome = Outcome.ROLLED_BACK; // an aborted block can only end in a rollback
        } else if (status == 'I') {
            if (outcome == Outcome.ROLLED_BACK) {
                markStale(c);
            }
            clear();
        }
    }

    /** pgferry rolled the backend's open transaction back (its client vanished): its statements are stale. */
    void rolledBack(ServerConnection c) {
        markStale(c);
        clear();
    }

    void clear() {
        for (int k = 0; k < size; k++) {
            names[k] = null;
        }
        size = 0;
        outcome = Outcome.OPEN;
    }

    private void markStale(ServerConnection c) {
        for (int k = 0; k < size; k++) {
            c.prepared.replace(names[k], SharedStatements.STALE); // only if still cached (not closed, evicted or discarded)
        }
    }
}
