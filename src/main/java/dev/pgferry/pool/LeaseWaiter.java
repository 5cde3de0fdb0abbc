package dev.pgferry.pool;

import dev.pgferry.backend.ServerConnection;

/** A client waiting for a backend. Callbacks run on the waiter's event loop. */
public interface LeaseWaiter {
    void onLease(ServerConnection conn);

    /** No backend: the error carries the SQLSTATE and message for the client. */
    void onLeaseFailed(PoolException error);
}
