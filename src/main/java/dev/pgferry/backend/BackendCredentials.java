package dev.pgferry.backend;

/**
 * What pgferry proves to PostgreSQL when it opens a backend for a user: a plaintext password (works with
 * every method), an MD5 hash (MD5 only), or SCRAM keys recovered from a client's proof (SCRAM only).
 */
public sealed interface BackendCredentials {
    String user();

    record Password(String user, String password) implements BackendCredentials {
        @Override
        public String toString() {
            return "Password[user=" + user + ", password=<redacted>]";
        }
    }

    record Md5Hash(String user, String md5Hash) implements BackendCredentials {
        @Override
        public String toString() {
            return "Md5Hash[user=" + user + ", hash=<redacted>]";
        }
    }

    record ScramKeys(String user, byte[] clientKey, byte[] serverKey) implements BackendCredentials {
        @Override
        public String toString() {
            return "ScramKeys[user=" + user + ", keys=<redacted>]";
        }
    }

    /**
     * Passthrough: pgferry holds no secret. Each Authentication request of the server goes to {@code relay}
     * (which sends it to the client), and the client's answers are written to the backend channel as they are.
     */
    record Relay(String user, AuthRelay relay) implements BackendCredentials {}

    /** Receives the server's authentication requests during a passthrough login. */
    interface AuthRelay {
        /** {@code request} is one complete Authentication message (a retained copy the relay must release). */
        void onServerAuthRequest(io.netty.channel.Channel backend, io.netty.buffer.ByteBuf request);
    }

    /** No secret: works only where the server trusts the connection. */
    record None(String user) implements BackendCredentials {}

    /**
     * No secret and no login wanted: whether the server accepts connections, asked as {@code pg_isready} asks it
     * (libpq's {@code PQping}). The connection succeeds as soon as the server answers the StartupMessage with an
     * authentication request, or with an error other than 57P03 ({@code the database system is starting up}, {@code
     * shutting down}, {@code not yet accepting connections}); a trusting server's login completes as usual. The
     * connection it yields is closed and can carry nothing.
     */
    record Ping(String user) implements BackendCredentials {}
}
