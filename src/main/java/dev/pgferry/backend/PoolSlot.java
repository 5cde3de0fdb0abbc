package dev.pgferry.backend;

/**
 * Where a pooled connection goes back to: set by the pool that counts the connection, null while none does (being
 * opened, moving to another event loop, or no longer counted). The connection only carries it for its pool.
 */
public interface PoolSlot {
    /** The connection is at ReadyForQuery 'I' with nothing pending and may serve the next client. */
    void release(ServerConnection c);

    /** The connection's state is unknown (its client vanished mid-transaction, an error): it is closed. */
    void discard(ServerConnection c);

    /**
     * The server refused a write on the connection ({@code 25006}, read-only transaction): its host may have become a
     * standby, so its role is asked again now rather than at the next periodic check.
     */
    default void refusedWrite(ServerConnection c) {
    }
}
