package dev.pgferry.backend;

/**
 * What pgferry proves to PostgreSQL when it opens a backend for a user: a plaintext password (works with
 * every method), an MD5 hash (MD5 only), or SCRAM keys recovered from a client's proof (SCRAM only).
 */
public sealed interface BackendCredentials {
    String user();

    record Password(String user, String password) implements BackendCredentials {}

    record Md5Hash(String user, String md5Hash) implements BackendCredentials {}

    record ScramKeys(String user, byte[] clientKey, byte[] serverKey) implements BackendCredentials {}

    /** No secret: works only where the server trusts the connection. */
    record None(String user) implements BackendCredentials {}
}
