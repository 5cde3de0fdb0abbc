package dev.pgferry.session;

import dev.pgferry.protocol.ProtocolException;
import io.netty.channel.ChannelHandler;
import java.util.Map;

/**
 * A database name pgferry answers itself instead of a server, such as the admin console {@code pgferry}.
 * Clients log in as usual (same users, same authentication); then the handler serves them.
 */
public interface VirtualDatabase {
    /** ParameterStatus values sent at login. */
    Map<String, String> parameters();

    /**
     * The handler that serves this authenticated user from ReadyForQuery on; it receives raw bytes.
     * Throws (e.g. SQLSTATE 42501) to refuse the user, which ends the login with a FATAL error.
     */
    ChannelHandler open(String user, String connectionId) throws ProtocolException;
}
