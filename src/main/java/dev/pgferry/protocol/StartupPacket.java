package dev.pgferry.protocol;

import java.util.List;
import java.util.Map;

/** The untyped first packet of a connection, as parsed by {@link StartupParser}. */
public sealed interface StartupPacket {

    /** Protocol 3.x StartupMessage. {@code params} keeps the client's order; {@code _pq_.} options are split off. */
    record StartupMessage(int majorVersion, int minorVersion, Map<String, String> params, List<String> protocolOptions)
            implements StartupPacket {
        public String user() {
            return params.get("user");
        }

        /** The database, defaulting to the user name as PostgreSQL does. */
        public String database() {
            String db = params.get("database");
            return db == null || db.isEmpty() ? user() : db;
        }
    }

    record SslRequest() implements StartupPacket {}

    record GssEncRequest() implements StartupPacket {}

    /** CancelRequest; the secret key is 4 bytes in protocol 3.0 and up to 256 bytes in 3.2. */
    record CancelRequest(int processId, byte[] secretKey) implements StartupPacket {}
}
