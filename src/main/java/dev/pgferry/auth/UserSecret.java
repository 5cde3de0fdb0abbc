package dev.pgferry.auth;

import java.util.Arrays;
import java.util.Base64;

/**
 * What a users file stores for a user, classified as PostgreSQL classifies {@code rolpassword}
 * ({@code get_password_type}): a SCRAM secret, an MD5 hash, or else a plaintext password.
 *
 * <p>{@code toString()} never prints secret material.
 */
public sealed interface UserSecret permits UserSecret.Plain, UserSecret.Md5, UserSecret.Scram {

    String SCRAM_PREFIX = "SCRAM-SHA-256$";

    /**
     * Classifies and parses a stored secret.
     * <ul>
     *   <li>{@code SCRAM-SHA-256$<iter>:<b64salt>$<b64StoredKey>:<b64ServerKey>} → {@link Scram};
     *       a malformed one is an error (PostgreSQL would silently take it as a plaintext password,
     *       which turns a typo into a password equal to the secret string);</li>
     *   <li>{@code md5} followed by exactly 32 lowercase hex digits → {@link Md5};</li>
     *   <li>anything else non-empty → {@link Plain}.</li>
     * </ul>
     *
     * @throws IllegalArgumentException naming what is wrong, never quoting the secret
     */
    static UserSecret parse(String secret) {
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("empty secret");
        }
        if (secret.startsWith(SCRAM_PREFIX)) {
            return Scram.parse(secret);
        }
        if (Md5.isMd5Hash(secret)) {
            return new Md5(secret);
        }
        return new Plain(secret);
    }

    /** A plaintext password. */
    record Plain(String password) implements UserSecret {
        public Plain {
            if (password == null || password.isEmpty()) {
                throw new IllegalArgumentException("empty password");
            }
        }

        @Override
        public String toString() {
            return "Plain[password=<redacted>]";
        }
    }

    /** {@code "md5" + hex(md5(password + user))}, as {@code CREATE ROLE … PASSWORD} stores it. */
    record Md5(String hash) implements UserSecret {
        public Md5 {
            if (!isMd5Hash(hash)) {
                throw new IllegalArgumentException("MD5 secret must be \"md5\" followed by 32 lowercase hex digits");
            }
        }

        static boolean isMd5Hash(String s) {
            if (s == null || s.length() != 35 || !s.startsWith("md5")) {
                return false;
            }
            for (int i = 3; i < 35; i++) {
                char c = s.charAt(i);
                if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String toString() {
            return "Md5[hash=<redacted>]";
        }
    }

    /**
     * A SCRAM-SHA-256 secret. The arrays are copied in and out; equality is by content.
     */
    record Scram(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) implements UserSecret {
        public Scram {
            if (iterations < 1) {
                throw new IllegalArgumentException("SCRAM secret: iteration count must be positive");
            }
            if (salt == null || salt.length == 0) {
                throw new IllegalArgumentException("SCRAM secret: empty salt");
            }
            if (storedKey == null || storedKey.length != ScramCrypto.KEY_LENGTH
                    || serverKey == null || serverKey.length != ScramCrypto.KEY_LENGTH) {
                throw new IllegalArgumentException("SCRAM secret: StoredKey and ServerKey must be 32 bytes");
            }
            salt = salt.clone();
            storedKey = storedKey.clone();
            serverKey = serverKey.clone();
        }

        static Scram parse(String secret) {
            // SCRAM-SHA-256$<iterations>:<salt>$<storedkey>:<serverkey>, see parse_scram_secret()
            String rest = secret.substring(SCRAM_PREFIX.length());
            int dollar = rest.indexOf('$');
            if (dollar < 0 || rest.indexOf('$', dollar + 1) >= 0) {
                throw new IllegalArgumentException("SCRAM secret: expected <iterations>:<salt>$<StoredKey>:<ServerKey>");
            }
            String[] iterSalt = splitPair(rest.substring(0, dollar), "<iterations>:<salt>");
            String[] keys = splitPair(rest.substring(dollar + 1), "<StoredKey>:<ServerKey>");
            return new Scram(parseIterations(iterSalt[0]), decode(iterSalt[1], "salt"),
                    decode(keys[0], "StoredKey"), decode(keys[1], "ServerKey"));
        }

        private static String[] splitPair(String s, String what) {
            int colon = s.indexOf(':');
            if (colon < 0 || s.indexOf(':', colon + 1) >= 0) {
                throw new IllegalArgumentException("SCRAM secret: expected " + what);
            }
            return new String[] {s.substring(0, colon), s.substring(colon + 1)};
        }

        private static int parseIterations(String s) {
            if (s.isEmpty() || s.length() > 10) {
                throw new IllegalArgumentException("SCRAM secret: invalid iteration count");
            }
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                    throw new IllegalArgumentException("SCRAM secret: invalid iteration count");
                }
            }
            long value = Long.parseLong(s);
            if (value < 1 || value > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("SCRAM secret: iteration count out of range");
            }
            return (int) value;
        }

        private static byte[] decode(String b64, String what) {
            try {
                return Base64.getDecoder().decode(b64);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("SCRAM secret: " + what + " is not valid base64");
            }
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

        /** The secret in PostgreSQL's {@code rolpassword} format. */
        public String toSecretString() {
            Base64.Encoder b64 = Base64.getEncoder();
            return SCRAM_PREFIX + iterations + ':' + b64.encodeToString(salt) + '$'
                    + b64.encodeToString(storedKey) + ':' + b64.encodeToString(serverKey);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Scram other && iterations == other.iterations
                    && Arrays.equals(salt, other.salt) && Arrays.equals(storedKey, other.storedKey)
                    && Arrays.equals(serverKey, other.serverKey);
        }

        @Override
        public int hashCode() {
            return 31 * iterations + Arrays.hashCode(salt);
        }

        @Override
        public String toString() {
            return "Scram[iterations=" + iterations + ", keys=<redacted>]";
        }
    }
}
