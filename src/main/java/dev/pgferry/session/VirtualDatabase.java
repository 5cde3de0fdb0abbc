package dev.pgferry.session;

import dev.pgferry.protocol.ProtocolException;
import io.netty.channel.ChannelHandler;
import java.util.Map;

/**
 * A database name pgferry answers itself instead of a server, such as the admin console {@code pgferry}.
 * Clients log in as usual (same users, same authentication); then the handler serves them.
 */
public interface VirtualDatabase {
    /** The database name clients log in to. */
    String name();

    /** ParameterStatus values sent at login. */
    Map<String, String> parameters();

    /**
     * The handler that serves this authenticated user from ReadyForQuery on; it receives raw bytes.
     * Throws (e.g. SQLSTATE 42501) to refuse the user, which ends the login with a FATAL error.
     */
    ChannelHandler open(String user, String connectionId) throws ProtocolException;

    /**
     * Plugs a virtual database into the proxy: the listener asks every CDI bean of this type for its database once the
     * sessions' shared state exists, before the port is bound. The admin console comes in this way, so that nothing
     * below it knows it.
     */
    interface Plugin {
        VirtualDatabase start(SessionContext sessions);
    }
}
