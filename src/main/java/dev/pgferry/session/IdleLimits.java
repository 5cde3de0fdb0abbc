package dev.pgferry.session;

import java.time.Duration;

/**
 * How long a logged-in client may send nothing, as PgBouncer's janitor ({@code pool_client_maint},
 * {@code pool_server_maint}) decides it: {@code client_idle_timeout} for a client holding no backend,
 * {@code idle_transaction_timeout} for one whose backend waits for it inside a transaction. A client holding a
 * backend at rest (session mode, pinned) is subject to neither: PgBouncer skips a client linked to a server, and a
 * session-mode client listening for notifications is idle by design. Zero disables a limit.
 */
final class IdleLimits {
    /** The sweep runs at a tenth of the shortest limit, so a client is closed at most 10 % late; within these bounds. */
    static final long MIN_SWEEP_NANOS = Duration.ofMillis(100).toNanos();
    static final long MAX_SWEEP_NANOS = Duration.ofSeconds(1).toNanos();

    enum Verdict {
        NONE,
        /** FATAL 08P01 as PgBouncer's {@code disconnect_client(client, true, "client_idle_timeout")}. */
        CLIENT_IDLE("client_idle_timeout"),
        /** FATAL 08P01 as PgBouncer's {@code disconnect_server(server, true, "idle transaction timeout")} tells its client. */
        IDLE_IN_TRANSACTION("idle transaction timeout");

        final String message;

        Verdict() {
            this(null);
        }

        Verdict(String message) {
            this.message = message;
        }
    }

    final long clientIdleNanos;
    final long idleTransactionNanos;

    private IdleLimits(long clientIdleNanos, long idleTransactionNanos) {
        this.clientIdleNanos = clientIdleNanos;
        this.idleTransactionNanos = idleTransactionNanos;
    }

    /** The limits, or null when both are 0 (then nothing is swept and no session keeps a timestamp). */
    static IdleLimits of(Duration clientIdle, Duration idleTransaction) {
        long a = Math.max(0, clientIdle.toNanos());
        long b = Math.max(0, idleTransaction.toNanos());
        return a == 0 && b == 0 ? null : new IdleLimits(a, b);
    }

    /** How often each event loop looks at its clients. */
    long sweepNanos() {
        long shortest = clientIdleNanos == 0 ? idleTransactionNanos
                : idleTransactionNanos == 0 ? clientIdleNanos : Math.min(clientIdleNanos, idleTransactionNanos);
        return Math.max(MIN_SWEEP_NANOS, Math.min(MAX_SWEEP_NANOS, shortest / 10));
    }

    /**
     * Which limit, if any, a client has outlived. {@code restNanos} is how long ago it last came to rest: logged in,
     * gave its backend back, or got the ReadyForQuery that ended its last request. A client in a transaction is at
     * rest only with nothing outstanding: no Query or Sync unanswered, no extended-protocol message sent without its
     * Sync (PostgreSQL's idle_in_transaction_session_timeout does not run then either: it starts at ReadyForQuery),
     * no COPY in progress.
     */
    Verdict verdict(SessionState state, TransactionTracker tx, long restNanos) {
        if (state.holdsNothing()) {
            return clientIdleNanos > 0 && restNanos > clientIdleNanos ? Verdict.CLIENT_IDLE : Verdict.NONE;
        }
        boolean idleInTransaction = state == SessionState.RELAYING && tx.atRest() && tx.inTransaction();
        return idleInTransaction && idleTransactionNanos > 0 && restNanos > idleTransactionNanos
                ? Verdict.IDLE_IN_TRANSACTION : Verdict.NONE;
    }
}
