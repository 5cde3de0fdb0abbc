package dev.pgferry.pool;

import dev.pgferry.backend.ServerConnection;

/**
 * Told of each backend a pool opens or adopts before any client uses it, and of operator actions after which the
 * server may report other values: the session layer learns a fresh backend's parameters from it (its per-pool
 * parameter cache). Called on the backend's event loop, or the operator's thread.
 */
public interface FreshBackendListener {
    FreshBackendListener NONE = new FreshBackendListener() {
        @Override
        public void opened(ServerConnection c, boolean paused) {}

        @Override
        public void serverChanged() {}
    };

    /** {@code c} has just logged in and reports the server's defaults; {@code paused}: its pool is paused now. */
    void opened(ServerConnection c, boolean paused);

    /** KILL or RECONNECT: what was learned from earlier backends is to be learned again from a new one. */
    void serverChanged();
}
