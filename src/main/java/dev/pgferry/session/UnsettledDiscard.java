package dev.pgferry.session;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

/**
 * A DISCARD ALL or DEALLOCATE ALL relayed to the server and not settled yet: the client's statement names it
 * dropped at once (a Parse of a name may follow in the same batch), kept to bring back should the server fail or
 * skip it. It succeeds inside no transaction block, after no failed statement and alone in its query string; its
 * tag or its request's ReadyForQuery 'I' settles it, an error before the tag undoes it.
 */
final class UnsettledDiscard {
    private static final byte[] DISCARD_ALL_TAG = "DISCARD ALL\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEALLOCATE_ALL_TAG = "DEALLOCATE ALL\0".getBytes(StandardCharsets.US_ASCII);

    /** The client's statements as they were before it; null while nothing is unsettled. */
    private HashMap<String, PreparedStatement> discarded;
    /** Requests relayed before the one with the DISCARD ALL and not answered yet: their errors are not its. */
    private int ahead;

    /**
     * The client's {@code statements} (null for none) are dropped by a DISCARD relayed behind {@code ahead}
     * unanswered requests (a pipeline of several Syncs). A second one before the first settles keeps the first's.
     */
    void dropped(HashMap<String, PreparedStatement> statements, int ahead) {
        if (discarded == null) {
            discarded = statements == null ? new HashMap<>() : statements;
            this.ahead = ahead;
        }
    }

    boolean pending() {
        return discarded != null;
    }

    /** A CommandComplete while {@link #pending}: its tag DISCARD ALL or DEALLOCATE ALL settles it. */
    void commandComplete(ByteBuf in, int ri, int end) {
        if (TransactionEffects.tagIs(in, ri, end, DISCARD_ALL_TAG)
                || TransactionEffects.tagIs(in, ri, end, DEALLOCATE_ALL_TAG)) {
            discarded = null;
        }
    }

    /**
     * An error came before the tag: if it is the DISCARD's, it failed or was skipped, and the client's statements
     * are still there on PostgreSQL. Returns the client's statements from now on: those it had come back (names it
     * prepared since, {@code statements}, win), prepared afresh on use.
     */
    HashMap<String, PreparedStatement> failed(HashMap<String, PreparedStatement> statements) {
        if (discarded == null || ahead > 0) {
            return statements; // nothing unsettled, or the error is an earlier request's
        }
        if (statements != null) {
            discarded.putAll(statements);
        }
        HashMap<String, PreparedStatement> back = discarded.isEmpty() ? null : discarded;
        discarded = null;
        return back;
    }

    /** A ReadyForQuery with {@code status}: an earlier request is over, or its own without an error at 'I'. */
    void readyForQuery(byte status) {
        if (discarded != null) {
            if (ahead > 0) {
                ahead--;
            } else if (status == 'I') {
                discarded = null; // what was forgotten stays forgotten
            }
        }
    }
}
