package dev.pgferry.session;

/**
 * Where the client's conversation with its backend stands, counted as the messages pass: every Query, Sync and
 * FunctionCall sent is answered by one ReadyForQuery. The session is {@link #atRest()} when none is outstanding,
 * nothing was sent after the last Sync, and no COPY FROM STDIN runs; whether a transaction is open is the last
 * ReadyForQuery's status. Pure bookkeeping on the client's loop: no I/O, no allocation.
 */
final class TransactionTracker {
    /** Queries, Syncs and function calls sent and not yet answered by their ReadyForQuery. */
    private int pending;
    /** An extended-protocol message (or a Flush) was sent after the last Sync: the backend is not clean before it. */
    private boolean unsynced;
    /** The server is in COPY FROM STDIN: it ignores Sync and answers nothing until CopyDone or CopyFail. */
    private boolean copyIn;
    /**
     * The server reported an extended-protocol error and skips every message up to the next Sync not yet sent
     * (PostgresMain's ignore_till_sync).
     */
    private boolean skipping;
    /**
     * Requests (Query, Sync, FunctionCall) sent and answered over the whole session, numbered from 1: the fan-out
     * tells by them which notifications came after the request that committed a LISTEN ({@link ListenFanout}).
     */
    private long sent;
    private long answered;
    /** The status of the last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed one. */
    private byte status = 'I';

    /** A new lease: the backend is at ReadyForQuery 'I' with nothing outstanding. */
    void reset() {
        answered = sent; // what a lease left unanswered is not waited for on the next
        pending = 0;
        unsynced = false;
        copyIn = false;
        skipping = false;
        status = 'I';
    }

    /** Nothing outstanding: no answer awaited, nothing sent after the last Sync, no COPY FROM STDIN running. */
    boolean atRest() {
        return pending == 0 && !unsynced && !copyIn;
    }

    /** The last ReadyForQuery said a transaction is open ('T') or failed ('E'). */
    boolean inTransaction() {
        return status != 'I';
    }

    byte status() {
        return status;
    }

    int pending() {
        return pending;
    }

    boolean unsynced() {
        return unsynced;
    }

    boolean copyIn() {
        return copyIn;
    }

    /** Whether the server skips what the client sends now (an error came, its Sync not yet sent). */
    boolean skipping() {
        return skipping;
    }

    /** Whether nothing the client sent after the request being answered is in flight. */
    boolean lastInFlight() {
        return pending == 0 || (pending == 1 && !unsynced);
    }

    // ---- client → server ----------------------------------------------------------------------------

    /** A Query or FunctionCall sent: one ReadyForQuery expected. */
    void requestSent() {
        sent++;
        pending++;
        unsynced = false;
    }

    /** A Sync sent; false if the server is in COPY FROM STDIN, where it ignores Sync (nothing expected then). */
    boolean syncSent() {
        if (copyIn) {
            return false;
        }
        sent++;
        pending++;
        unsynced = false;
        skipping = false;
        return true;
    }

    /** Parse, Bind, Describe, Close, Execute or Flush sent, or any message the server skips after an error. */
    void unsyncedSent() {
        unsynced = true;
    }

    /** CopyDone or CopyFail sent: outside COPY the server ignores them, inside they end it. */
    void copyEndSent() {
        copyIn = false;
    }

    // ---- server → client ----------------------------------------------------------------------------

    /** A ReadyForQuery came; true when it answered the last request outstanding. */
    boolean readyForQuery(byte status) {
        this.status = status;
        answered++;
        if (--pending <= 0) {
            pending = 0;
            return true;
        }
        return false;
    }

    /** CopyInResponse. */
    void copyInStarted() {
        copyIn = true;
    }

    /**
     * CommandComplete or ErrorResponse: a COPY FROM STDIN is over, also when the client's CopyDone went out before
     * the server's CopyInResponse came (then nothing else would clear it).
     */
    void commandOver() {
        copyIn = false;
    }

    /** An error of an extended-protocol message: the server skips up to the next Sync, unless one is on its way. */
    void skipToSync(boolean syncInFlight) {
        skipping = !syncInFlight;
    }

    /**
     * Syncs sent behind a COPY's Execute that the server ignores in copy-in mode: they get no ReadyForQuery.
     */
    void syncsIgnored(int syncs) {
        sent -= Math.min(pending, syncs);
        pending = Math.max(0, pending - syncs);
    }

    /** Requests sent so far in the session: the number of the last one. */
    long sent() {
        return sent;
    }

    /** The number of the request the last ReadyForQuery answered. */
    long answered() {
        return answered;
    }

    /** After pgferry's own statements inside the client's transaction: the status its ReadyForQuery reported. */
    void status(byte status) {
        this.status = status;
    }

    @Override
    public String toString() {
        return "pending=" + pending + (unsynced ? " unsynced" : "") + (copyIn ? " copy-in" : "")
                + (skipping ? " skipping" : "") + " status=" + (char) status;
    }
}
