package dev.pgferry.backend;

import io.netty.buffer.ByteBuf;

/** Whoever currently holds a {@link ServerConnection} receives its traffic; called on the connection's event loop. */
public interface BackendListener {
    /** Bytes read from the server; the listener owns {@code data}. */
    void onBackendRead(ServerConnection conn, ByteBuf data);

    /** A read batch ended: flush what was relayed. */
    void onBackendReadComplete(ServerConnection conn);

    /** The server connection closed or failed. */
    void onBackendClosed(ServerConnection conn, Throwable cause);

    /** The server connection's writability changed (back-pressure). */
    void onBackendWritabilityChanged(ServerConnection conn, boolean writable);
}
