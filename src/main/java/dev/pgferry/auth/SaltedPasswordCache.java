package dev.pgferry.auth;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small process-wide LRU of SaltedPassword = Hi(password, salt, i), so repeated connections to a
 * backend whose secret has not changed do no PBKDF2 after the first one.
 *
 * <p>Keys are a SHA-256 digest of (iterations, salt, password) rather than the password itself, so
 * the cache retains no plaintext. The values are password-equivalent for that one server secret,
 * which is what any SCRAM client has to hold to reconnect without the plaintext anyway.
 */
final class SaltedPasswordCache {

    static final int CAPACITY = 64;

    private static final Map<String, byte[]> CACHE = new LinkedHashMap<>(CAPACITY * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
            if (size() > CAPACITY) {
                ScramCrypto.wipe(eldest.getValue());
                return true;
            }
            return false;
        }
    };

    private SaltedPasswordCache() {
    }

    /** Hi(SASLprep(password), salt, iterations); the caller owns (and should wipe) the result. */
    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        byte[] passwordBytes = SaslPrep.passwordBytes(password);
        ByteBuffer keyInput = ByteBuffer.allocate(8 + salt.length + passwordBytes.length)
                .putInt(iterations).putInt(salt.length).put(salt).put(passwordBytes);
        byte[] digest = ScramCrypto.sha256(keyInput.array());
        String key = Base64.getEncoder().encodeToString(digest);
        ScramCrypto.wipe(keyInput.array(), digest);
        synchronized (CACHE) {
            byte[] cached = CACHE.get(key);
            if (cached != null) {
                ScramCrypto.wipe(passwordBytes);
                return cached.clone();
            }
        }
        // Derive outside the lock: two racing first connections both derive, which is harmless.
        byte[] salted = ScramCrypto.hi(passwordBytes, salt, iterations);
        ScramCrypto.wipe(passwordBytes);
        synchronized (CACHE) {
            CACHE.put(key, salted.clone());
        }
        return salted;
    }

    static int size() {
        synchronized (CACHE) {
            return CACHE.size();
        }
    }

    static void clear() {
        synchronized (CACHE) {
            CACHE.values().forEach(ScramCrypto::wipe);
            CACHE.clear();
        }
    }
}
