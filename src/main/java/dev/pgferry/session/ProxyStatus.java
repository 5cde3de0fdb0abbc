package dev.pgferry.session;

import dev.pgferry.backend.BackendConnector;

/**
 * What the running proxy shows the health checks and meters, implemented by the listener
 * ({@code dev.pgferry.server.ProxyServer}) and found through CDI, so that readers above need not know the server.
 */
public interface ProxyStatus {
    /** Whether the PostgreSQL port is bound. */
    boolean listening();

    /** The sessions' state; null before the listener started. */
    SessionStats context();

    /** Opens the pools' backends; null before the listener started. */
    BackendConnector connector();

    /** Peering with the other replicas (cancel forwarding, budget share); null before the listener started. */
    dev.pgferry.peer.Peering peering();

    /** The roles of the servers of the {@code hosts} lists; null before the listener started. */
    default dev.pgferry.pool.HostRoles hostRoles() {
        return null;
    }
}
