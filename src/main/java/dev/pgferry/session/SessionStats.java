package dev.pgferry.session;

import dev.pgferry.pool.Pools;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * What the sessions show the health checks and meters: counters since start, the clients logged in, the pools. Read
 * only: the admin console acts through {@link SessionContext} itself.
 */
public interface SessionStats {
    /** The configuration in force (RELOAD replaces it). */
    dev.pgferry.config.PgferryConfig config();

    /** Client connections open now, logging in or logged in (admin console connections excluded). */
    int clientConnections();

    /** Logins completed. */
    long logins();

    /** Logins refused by authentication (wrong password, unknown user, no admin permission). */
    long loginFailures();

    /** Logins ended by pgferry.client-login-timeout. */
    long loginTimeouts();

    /** Logins the server refused (database, startup parameter, backend login), or could not serve. */
    long loginServerRefusals();

    /** Logins refused by a connection limit, a disabled database, or shutting down. */
    long loginLimitRefusals();

    /** Clients closed for violating the wire protocol. */
    long protocolErrors();

    /** Sessions pinned to their backend by state that cannot move. */
    long pinnedSessions();

    /** Whether shutdown began: new logins are refused, idle clients closed. */
    boolean draining();

    /** The sessions logged in now (not those still logging in). */
    List<? extends ClientView> loggedInClients();

    Pools pools();

    /** The LISTEN/NOTIFY fan-out: its listener connections and counters. */
    dev.pgferry.notify.NotifyHub notifications();

    /** Receives the duration of each completed login in nanoseconds, on the client's loop; replaces the previous one. */
    void onLoginTime(LongConsumer recorder);
}
