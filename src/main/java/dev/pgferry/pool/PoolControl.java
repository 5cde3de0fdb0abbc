package dev.pgferry.pool;

import java.util.concurrent.CompletableFuture;

/**
 * The operator's hold on one pool: PAUSE, RESUME, KILL and RECONNECT, as PgBouncer's console has them. It keeps
 * what they decide (paused or not, which backends are obsolete) and asks {@link Backends} to act on each event loop;
 * the pool's leasing reads {@link #paused} and {@link #obsolete} on every release and open.
 */
public final class PoolControl {
    /** What operator control acts on: the pool's backends, each loop's on that loop. */
    interface Backends {
        /** Closes the idle backends of every loop, each on its loop, as long as the pool stays paused. */
        void closeIdle();

        /** Serves the clients waiting on every loop: idle backends first, then new ones. */
        void serveWaiters();

        /** Closes the backends held out of the pool for a cancel in flight. */
        void closeBeingCanceled();

        /** Closes the idle backends that are {@link #obsolete}. */
        void closeObsoleteIdle();

        /** Backends open or being opened. */
        int total();
    }

    private final Backends backends;
    private final FreshBackendListener fresh;
    private volatile boolean paused;
    /** Completed once a paused pool has no backend left open (see {@link #pause}). */
    private volatile CompletableFuture<Void> drained = CompletableFuture.completedFuture(null);
    /** RECONNECT: backends opened before this {@link System#nanoTime()} stamp are closed, once free (see {@link #reconnect}). */
    private volatile long reconnectStamp;
    private volatile boolean reconnectRequested;

    PoolControl(Backends backends, FreshBackendListener fresh) {
        this.backends = backends;
        this.fresh = fresh;
    }

    /**
     * PAUSE: no backend is handed out until {@link #resume}; clients asking for one wait in the queue (their wait
     * timeout still applies). Idle backends are closed now, and every backend coming back from its client or
     * finishing its connect is closed instead of parked, so that the server can be restarted. The future
     * completes, on whichever thread closes the last one, once this pool has no backend open; at once if it has
     * none. Pausing a paused pool returns the drain already under way. A pool that only gets backends from
     * passthrough logins gets none back until a client logs in again after RESUME.
     */
    public synchronized CompletableFuture<Void> pause() {
        if (paused) {
            return drained;
        }
        drained = new CompletableFuture<>(); // written before paused: a loop that sees paused sees this future
        paused = true;
        backends.closeIdle();
        if (backends.total() == 0) {
            drained.complete(null);
        }
        return drained;
    }

    /**
     * RESUME: waiting clients get fresh backends, opened on demand. A drain still under way completes
     * exceptionally with a {@link java.util.concurrent.CancellationException}.
     */
    public synchronized void resume() {
        if (!paused) {
            return;
        }
        paused = false;
        drained.cancel(false);
        backends.serveWaiters();
    }

    public boolean paused() {
        return paused;
    }

    /** The pool's last backend has closed: a PAUSE waiting for that is over. */
    void lastClosed() {
        if (paused) {
            drained.complete(null);
        }
    }

    /**
     * KILL, as PgBouncer's kill_pool: the pool is paused ({@link #pause}: its idle backends are closed, and every one
     * coming back is closed instead of parked) and the backends held out of the pool for a cancel in flight are closed
     * now; the ones clients hold are closed by their sessions, which KILL closes. RESUME undoes the pause. Logins wait
     * for a backend until then, as the first login of a new pool does. Returns {@link #pause}'s future: complete
     * when the pool's last backend has closed.
     */
    public synchronized CompletableFuture<Void> kill() {
        CompletableFuture<Void> gone = pause();
        fresh.serverChanged(); // before any backend can open again: RESUME comes after
        backends.closeBeingCanceled();
        return gone;
    }

    /**
     * RECONNECT, as PgBouncer's: every backend open now, or being opened, is closed instead of reused: the idle ones
     * now, each held by a client when it is released (in session mode when its client leaves), each being opened
     * once it is ready. No client is disturbed; new backends are opened as needed, and the server parameters new
     * logins are welcomed with are learned again from the first of them.
     */
    public void reconnect() {
        reconnectStamp = System.nanoTime(); // written before the flag: a loop that sees the flag sees the stamp
        reconnectRequested = true;
        fresh.serverChanged();
        backends.closeObsoleteIdle();
    }

    /** Whether a backend opened at {@code createdNanos} was opened before the last {@link #reconnect}. */
    boolean obsolete(long createdNanos) {
        return reconnectRequested && createdNanos - reconnectStamp <= 0;
    }
}
