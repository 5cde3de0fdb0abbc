package dev.pgferry.session;

/** What the admin console may do to a client connection (KILL, KILL_CLIENT); both act on the client's own loop. */
public interface ClientControl extends ClientView {
    /** Sends FATAL and closes at once; a backend the client holds is closed too, whatever its state (KILL). */
    void kill(String sqlState, String message);

    /**
     * Sends FATAL and closes at once; a backend the client holds is cleaned up as when a client vanishes: its
     * transaction rolled back and the backend returned (KILL_CLIENT). For a login waiting for its pool, as {@link #kill}.
     */
    void disconnect(String sqlState, String message);
}
