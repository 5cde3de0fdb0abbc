package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.Pool;

/**
 * A client connection as the console and the meters read it: a logged-in session, or a login waiting for its pool.
 * Values are read from another thread than the client's, so they are a moment's picture.
 */
public interface ClientView {
    /** {@link #state()} of a login that authenticated and waits for its pool (PgBouncer's CL_WAITING_LOGIN). */
    String WAITING_LOGIN = "waiting_login";

    /** The connection id, {@code C-7}, as SHOW CLIENTS lists it. */
    String id();

    /** The user the client logged in as; with a database's forced user, not its pool's. */
    String user();

    /** Its pool; null for a login that has not named one yet. */
    Pool pool();

    /** The session's state in lower case ({@code idle}, {@code leasing}, …, {@code closed}), or {@link #WAITING_LOGIN}. */
    String state();

    /** The client's address as Netty prints it ({@code /127.0.0.1:51234}), or {@code unix:<listen port>}. */
    String remoteAddress();

    /** When the client connected, in wall-clock milliseconds. */
    long connectedMillis();

    /** The backend the client holds now; null when none. */
    ServerConnection backend();
}
