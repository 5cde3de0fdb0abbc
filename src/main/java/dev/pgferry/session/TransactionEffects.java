package dev.pgferry.session;

import dev.pgferry.session.StatementInspector.Findings;
import io.netty.buffer.ByteBuf;

/**
 * What the statements run in the current transaction did to session parameters: the findings of each simple
 * Query as it is relayed, and those of a prepared statement at each Bind of it (found once, at its Parse, see
 * {@link PreparedStatement#effect}). At the transaction's end they tell whether the backend needs a fixup
 * before it goes on: startup values put back after a RESET, unreported parameters read back.
 */
final class TransactionEffects {
    private static final byte[] COMMIT_TAG = "COMMIT\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] ROLLBACK_TAG = "ROLLBACK\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Findings of transactions that ended and did not roll back (or may not have). */
    private Findings found;
    /** Findings of the transaction running now. */
    private Findings current;
    /**
     * Findings of a transaction that failed or rolled back, set aside: void when it ends, back in {@link #current}
     * if a ROLLBACK TO SAVEPOINT recovers it (what ran before the savepoint may still commit).
     */
    private Findings doomed;
    /** Whether the request relayed last (a Query, or what went since the last Sync) brought findings of its own. */
    private boolean requestFindings;
    /**
     * The findings of the requests relayed since the client last had nothing in flight (a copy, null without any):
     * their RESETs are what {@link #requestAnswered} hands back when the transaction goes on after them.
     */
    private Findings request;
    /** Whether a ROLLBACK (TO SAVEPOINT) completed since {@link #request} began. */
    private boolean requestRolledBack;
    /**
     * The links of a Query's findings after its transaction ends not yet answered (see {@link Findings#next}): each
     * becomes {@link #current} at the COMMIT or ROLLBACK tag before it, so a COMMIT does not settle, nor a ROLLBACK
     * doom, what the query string runs after it. Only for a Query nothing else is in flight with; otherwise the
     * links are merged at once, as before.
     */
    private Findings links;

    /** A Query, or a Sync: a new request begins (for a Sync, with the message after it). */
    void requestStart() {
        requestFindings = false;
    }

    private void noteRequest(Findings f) {
        requestFindings = true;
        if (request == null) {
            // kept across the requests of a pipeline until the client has nothing in flight: a RESET ALL of one and a
            // SET of a later one are both answered then (differential seed 20261206)
            request = new Findings();
            requestRolledBack = false;
        }
        for (Findings l = f; l != null; l = l.next) {
            request.add(l);
        }
    }

    /**
     * Findings fresh from the inspector, owned by no one else: kept as they are if they are the first. {@code alone}:
     * a Query that nothing else the client sent is in flight with, whose links (transaction ends in its query
     * string) can be told apart by the tags that answer it.
     */
    void adopt(Findings f, boolean alone) {
        noteRequest(f);
        Findings rest = f.next;
        f.next = null;
        join(f);
        if (rest != null) {
            if (alone && links == null) {
                links = rest;
            } else {
                mergeLinks(rest);
            }
        }
    }

    /** Findings owned here, with no link after them, join the running transaction's: kept as they are if first. */
    private void join(Findings owned) {
        if (current == null) {
            current = owned;
        } else {
            current.add(owned);
        }
    }

    /**
     * Findings and their links, not owned here (a prepared statement's apply again at its next Bind) or that cannot
     * be told apart: what they did counts as if in the running transaction (read back after); copied, never changed.
     */
    private void mergeLinks(Findings l) {
        for (; l != null; l = l.next) {
            if (current == null) {
                current = new Findings();
            }
            current.add(l);
        }
    }

    /** The next link of the Query being answered: the transaction before it ended. */
    private void nextLink() {
        Findings l = links;
        links = l.next;
        l.next = null;
        join(l);
    }

    /**
     * A prepared statement's findings, run once more: merged into findings of this transaction's own, never
     * changed themselves (they apply again at the statement's next Bind).
     */
    void add(Findings f) {
        noteRequest(f);
        mergeLinks(f); // links only with several statements, which a Parse refuses
    }

    /** Whether the running transaction did anything to the session: only then are its outcome's messages read. */
    boolean watching() {
        return current != null || links != null;
    }

    /**
     * An ErrorResponse; {@code last} if nothing the client sent after the failing request is in flight. The running
     * transaction (implicit or explicit) is aborted, and what it did is reverted by PostgreSQL when it ends: nothing
     * after the failing statement in its query string ran, and what ran before it, back to the transaction's start,
     * is rolled back. With more in flight, findings cannot be told apart by transaction and are kept: a fixup that
     * reads back what the server has is never wrong, only sometimes unneeded.
     */
    void error(boolean last) {
        if (last) {
            doom();
            links = null; // the rest of the query string did not run
        } else if (links != null) {
            mergeLinks(links);
            links = null;
        }
    }

    /**
     * A CommandComplete's tag at {@code [ri, end)}: COMMIT settles what ran so far; ROLLBACK (also a failed block's
     * COMMIT, and ROLLBACK TO SAVEPOINT, which the ReadyForQuery 'T' after it takes back) dooms it, if nothing in
     * flight could have run after it ({@code last}) and its own request brought no findings (a query string with
     * statements after the ROLLBACK would).
     */
    void commandComplete(ByteBuf in, int ri, int end, boolean last) {
        if (tagIs(in, ri, end, COMMIT_TAG)) {
            settle();
            if (links != null) {
                nextLink();
            }
        } else if (tagIs(in, ri, end, ROLLBACK_TAG)) {
            requestRolledBack = true;
            if (links != null) {
                // a COMMIT of a failed transaction answers ROLLBACK too; a ROLLBACK TO SAVEPOINT leaves what ran
                // before the savepoint to the transaction's end
                if (links.endedBy != Findings.ROLLBACK_TO) {
                    doom();
                }
                nextLink();
            } else if (last && !requestFindings) {
                doom();
            }
        }
    }

    /**
     * The request just answered, its transaction going on ('T'): its findings if a RESET in it returned a startup
     * parameter to the server's own default, which PostgreSQL would have set to the client's startup value. Put
     * right at once (a RESET is as transactional as the SET that puts it right), not only when the transaction
     * ends, the client could read the server's default meanwhile. Null when the request rolled back to a
     * savepoint too: what the RESET did may be undone, and the transaction's end puts it right in any case.
     *
     * <p>Called when the client has nothing else in flight ({@code status} is the last ReadyForQuery it waits
     * for): the findings are those of the last requests that brought any, each answered now, and forgotten here.
     * Within a pipeline the client may read the server's default in a later request: it is sent before the first
     * one is answered.
     */
    Findings requestAnswered(byte status, SessionParameters params) {
        Findings f = request;
        request = null;
        if (f == null || requestRolledBack || status != 'T') {
            return null;
        }
        return f.resetAll || resetsStartup(f, params) ? f : null;
    }

    private static boolean resetsStartup(Findings f, SessionParameters params) {
        for (String n : f.resetNames) {
            if (params.startup().containsKey(params.canonical(n))) {
                return true;
            }
        }
        return false;
    }

    private void doom() {
        if (current != null) {
            if (doomed == null) {
                doomed = current;
            } else {
                doomed.add(current);
            }
            current = null;
        }
    }

    /**
     * ReadyForQuery with {@code status}. At 'I' the transaction is over: what it did is settled, and a doomed
     * transaction's findings are void, as PostgreSQL reverts every parameter a rolled-back transaction set or
     * reset. 'T' with findings doomed is a ROLLBACK TO SAVEPOINT: the transaction goes on and may still commit what
     * ran before it. Returns whether findings were voided.
     */
    boolean readyForQuery(byte status) {
        if (links != null) {
            mergeLinks(links); // more transaction ends than tags: not told apart, kept
            links = null;
        }
        if (status == 'I') {
            settle();
            boolean voided = doomed != null;
            doomed = null;
            return voided;
        }
        if (status == 'T' && doomed != null) {
            Findings back = doomed;
            doomed = null;
            if (current != null) {
                back.add(current);
            }
            current = back;
        }
        return false;
    }

    private void settle() {
        if (current != null) {
            if (found == null) {
                found = current;
            } else {
                found.add(current);
            }
            current = null;
        }
    }

    static boolean tagIs(ByteBuf in, int ri, int end, byte[] tag) {
        if (end - ri - 5 != tag.length) {
            return false;
        }
        for (int k = 0; k < tag.length; k++) {
            if (in.getByte(ri + 5 + k) != tag[k]) {
                return false;
            }
        }
        return true;
    }

    /** The findings of the transactions that ended, now forgotten here; null if they changed nothing. */
    Findings take() {
        Findings f = found;
        found = null;
        return f;
    }

    /** Whether a LISTEN or UNLISTEN is among the findings of the transactions that ended (see {@link #take}). */
    boolean listenSettled() {
        return found != null && found.listenOps != null;
    }

    void clear() {
        found = null;
        current = null;
        doomed = null;
        request = null;
        links = null;
    }

    /**
     * Whether the transaction that just ended needs a fixup: a RESET of a startup parameter, which the server
     * returned to its own default, or (for a backend going back to the pool, {@code keeps} false) a SET of an
     * unreported parameter, whose value pgferry must read back to restore it on the next backend.
     */
    boolean needsFixup(SessionParameters params, boolean keeps) {
        Findings f = found;
        if (f == null) {
            return false;
        }
        if (f.resetAll || resetsStartup(f, params)) {
            return true;
        }
        if (keeps) {
            return false;
        }
        for (String n : f.touched) {
            if (!params.isReported(params.canonical(n))) {
                return true;
            }
        }
        return false;
    }
}
