package dev.pgferry.session;

/**
 * The whole life of a client connection, one value at a time, and the one table of its moves ({@link #on}). The
 * login states (STARTUP, AUTHENTICATING, WELCOMING) are driven by {@link LoginHandler}, which hands the connection
 * over in IDLE; from there on {@link ClientSession} drives it. Each dispatches on the state with one {@code switch}.
 * The transaction accounting inside {@link #RELAYING} is {@link TransactionTracker}'s.
 *
 * <pre>
 *  STARTUP          ─STARTUP_MESSAGE→ AUTHENTICATING ─AUTHENTICATED→ WELCOMING ─WELCOMED→ IDLE
 *  IDLE             ─REQUEST→ LEASING
 *  LEASING          ─STALE→ CHECKING ─CHECK_FAILED→ LEASING
 *  LEASING|CHECKING ─NEEDS_RESTORE→ RESTORING
 *  LEASING|CHECKING|RESTORING|FIXUP ─RELAY→ RELAYING ─FIXUP→ FIXUP
 *  RELAYING         ─RELEASED→ IDLE
 *  LEASING|CHECKING|RESTORING ─ANSWERED→ IDLE, ─ANSWERED_BEFORE_SYNC→ SKIPPING_TO_SYNC ─SYNC_SKIPPED→ IDLE
 *  any              ─CLOSE→ CLOSED
 * </pre>
 */
enum SessionState {
    /** Reads startup packets: SSLRequest, GSSENCRequest, CancelRequest, until a StartupMessage. */
    STARTUP("login"),
    /** The StartupMessage was admitted: the client proves who it is (or a backend judges it, passthrough). */
    AUTHENTICATING("login"),
    /** Authenticated: parameters checked, a session-mode backend leased, then the welcome (up to ReadyForQuery). */
    WELCOMING(ClientView.WAITING_LOGIN),
    /** Holds no backend; the next message that needs the server leases one. */
    IDLE("idle"),
    /** Holds no backend: a failed or canceled request's batch is skipped up to its Sync, as the server would. */
    SKIPPING_TO_SYNC("idle"),
    /** Waits in its pool's queue for a backend. */
    LEASING("leasing"),
    /** Holds a backend idle long, proving it alive with an empty query before using it. */
    CHECKING("restoring"),
    /** Holds a backend, bringing its parameters to the client's; none of the client's request is sent yet. */
    RESTORING("restoring"),
    /** Relays the client's messages to its backend and the answers back: the hot path. */
    RELAYING("leased"),
    /** The client's transaction is over; pgferry's own query puts parameters back before the backend goes on. */
    FIXUP("fixup"),
    /** Over: nothing more is read, a backend still held is cleaned up by whoever holds it last. */
    CLOSED("closed");

    /** What happens to a session; each moves it along {@link #on}. */
    enum Event {
        /** An admitted StartupMessage came. */
        STARTUP_MESSAGE,
        /** The client's authentication succeeded. */
        AUTHENTICATED,
        /** The client got its ReadyForQuery: the login hands the connection to its session. */
        WELCOMED,
        /** A complete message needs the server. */
        REQUEST,
        /** The lease found a backend idle longer than the check delay. */
        STALE,
        /** The liveness check failed: the backend is discarded and another asked for. */
        CHECK_FAILED,
        /** The backend's parameters differ from the client's. */
        NEEDS_RESTORE,
        /** The backend is the client's: relay. */
        RELAY,
        /** The request waited with was answered (an error and its ReadyForQuery) without reaching a server. */
        ANSWERED,
        /** As {@link #ANSWERED}, but the request's Sync has not come yet: skip up to it. */
        ANSWERED_BEFORE_SYNC,
        /** The Sync ending a skipped batch came. */
        SYNC_SKIPPED,
        /** The transaction (or request) is over and pgferry must run its own query first. */
        FIXUP,
        /** The backend went back to the pool. */
        RELEASED,
        /** The client left, was closed, refused or canceled, or its backend was lost. */
        CLOSE
    }

    /** What {@code SHOW CLIENTS} and the client counts show: the names this session's states always had. */
    final String label;

    SessionState(String label) {
        this.label = label;
    }

    /** Whether a logged-in session holds no backend and asked for none: what {@code client_idle_timeout} watches. */
    boolean holdsNothing() {
        return this == IDLE || this == SKIPPING_TO_SYNC;
    }

    /** Whether the connection is still logging in: the states {@link LoginHandler} drives. */
    boolean loggingIn() {
        return this == STARTUP || this == AUTHENTICATING || this == WELCOMING;
    }

    /** The state after {@code e}; an event that cannot happen in this state is a bug, not a protocol error. */
    SessionState on(Event e) {
        if (e == Event.CLOSE) {
            return CLOSED;
        }
        SessionState next = switch (this) {
            case STARTUP -> e == Event.STARTUP_MESSAGE ? AUTHENTICATING : null;
            case AUTHENTICATING -> e == Event.AUTHENTICATED ? WELCOMING : null;
            case WELCOMING -> e == Event.WELCOMED ? IDLE : null;
            case IDLE -> e == Event.REQUEST ? LEASING : null;
            case SKIPPING_TO_SYNC -> e == Event.SYNC_SKIPPED ? IDLE : null;
            case LEASING -> switch (e) {
                case STALE -> CHECKING;
                case NEEDS_RESTORE -> RESTORING;
                case RELAY -> RELAYING;
                case ANSWERED -> IDLE;
                case ANSWERED_BEFORE_SYNC -> SKIPPING_TO_SYNC;
                default -> null;
            };
            case CHECKING -> switch (e) {
                case CHECK_FAILED -> LEASING;
                case NEEDS_RESTORE -> RESTORING;
                case RELAY -> RELAYING;
                case ANSWERED -> IDLE;
                case ANSWERED_BEFORE_SYNC -> SKIPPING_TO_SYNC;
                default -> null;
            };
            case RESTORING -> switch (e) {
                case RELAY -> RELAYING;
                case ANSWERED -> IDLE;
                case ANSWERED_BEFORE_SYNC -> SKIPPING_TO_SYNC;
                default -> null;
            };
            case RELAYING -> switch (e) {
                case FIXUP -> FIXUP;
                case RELEASED -> IDLE;
                default -> null;
            };
            case FIXUP -> e == Event.RELAY ? RELAYING : null;
            case CLOSED -> null;
        };
        if (next == null) {
            throw new IllegalStateException("session event " + e + " in state " + this);
        }
        return next;
    }
}
