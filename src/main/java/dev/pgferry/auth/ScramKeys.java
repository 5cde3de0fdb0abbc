package dev.pgferry.auth;

import java.util.Arrays;

/**
 * SCRAM-SHA-256 key material for one user: what the server side of an exchange needs. Derived
 * once per credential (PBKDF2 is the expensive part), never per login.
 *
 * <p>{@code clientKey} is known only when the keys were derived from a plaintext password;
 * it is {@code null} for keys read from a stored SCRAM secret. Arrays are copied in and out.
 */
public record ScramKeys(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey, byte[] clientKey) {

    /** PostgreSQL's default {@code scram_iterations}. */
    public static final int DEFAULT_ITERATIONS = 4096;
    /** PostgreSQL's {@code SCRAM_DEFAULT_SALT_LEN}. */
    public static final int DEFAULT_SALT_LENGTH = 16;

    public ScramKeys {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        if (salt == null || salt.length == 0) {
            throw new IllegalArgumentException("empty salt");
        }
        if (storedKey == null || storedKey.length != ScramCrypto.KEY_LENGTH
                || serverKey == null || serverKey.length != ScramCrypto.KEY_LENGTH
                || (clientKey != null && clientKey.length != ScramCrypto.KEY_LENGTH)) {
            throw new IllegalArgumentException("SCRAM keys must be 32 bytes");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
        clientKey = clientKey == null ? null : clientKey.clone();
    }

    /** Derives the keys from a plaintext password (SASLprep'd as PostgreSQL does, see {@link SaslPrep}). */
    public static ScramKeys derive(String password, byte[] salt, int iterations) {
        byte[] passwordBytes = SaslPrep.passwordBytes(password);
        byte[] salted = ScramCrypto.hi(passwordBytes, salt, iterations);
        byte[] clientKey = ScramCrypto.clientKey(salted);
        byte[] serverKey = ScramCrypto.serverKey(salted);
        byte[] storedKey = ScramCrypto.sha256(clientKey);
        try {
            return new ScramKeys(iterations, salt, storedKey, serverKey, clientKey);
        } finally {
            ScramCrypto.wipe(passwordBytes, salted, clientKey, serverKey, storedKey);
        }
    }

    /** The keys of a stored SCRAM secret; the ClientKey is unknown. */
    public static ScramKeys of(UserSecret.Scram secret) {
        return new ScramKeys(secret.iterations(), secret.salt(), secret.storedKey(), secret.serverKey(), null);
    }

    /** The equivalent PostgreSQL secret (what {@code CREATE ROLE … PASSWORD} would have stored). */
    public UserSecret.Scram toSecret() {
        return new UserSecret.Scram(iterations, salt, storedKey, serverKey);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** The ClientKey, or {@code null} when unknown. */
    @Override
    public byte[] clientKey() {
        return clientKey == null ? null : clientKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramKeys other && iterations == other.iterations
                && Arrays.equals(salt, other.salt) && Arrays.equals(storedKey, other.storedKey)
                && Arrays.equals(serverKey, other.serverKey) && Arrays.equals(clientKey, other.clientKey);
    }

    @Override
    public int hashCode() {
        return 31 * iterations + Arrays.hashCode(salt);
    }

    @Override
    public String toString() {
        return "ScramKeys[iterations=" + iterations + ", keys=<redacted>]";
    }
}
