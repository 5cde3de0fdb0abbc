package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The SCRAM-SHA-256 primitives of RFC 5802 section 3, on JDK crypto. */
final class ScramCrypto {

    static final String HMAC = "HmacSHA256";
    /** Length of every SCRAM-SHA-256 key, signature and proof. */
    static final int KEY_LENGTH = 32;

    private ScramCrypto() {
    }

    static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key(key));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /**
     * SecretKeySpec refuses an empty key; HMAC zero-pads keys to the block size, so the key "" and the key "\0" are
     * the same key (RFC 2104 section 2). PostgreSQL accepts both.
     */
    private static SecretKeySpec key(byte[] key) {
        return new SecretKeySpec(key.length == 0 ? new byte[1] : key, HMAC);
    }

    /**
     * One Mac per thread for one-shot HMACs (two or three per login): {@code Mac.getInstance} looks the provider up
     * and builds a new engine each time, several KiB of garbage per login that a fresh JVM's young generation then
     * pages in. {@code init} resets the engine with the new key.
     */
    private static final ThreadLocal<Mac> HMACS = ThreadLocal.withInitial(() -> {
        try {
            return Mac.getInstance(HMAC);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    });

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    });

    static byte[] hmac(byte[] key, byte[] data) {
        Mac mac = HMACS.get();
        try {
            mac.init(key(key));
        } catch (InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
        return mac.doFinal(data);
    }

    static byte[] hmac(byte[] key, String data) {
        return hmac(key, data.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] sha256(byte[] data) {
        return SHA256.get().digest(data); // digest() resets the engine for the next use
    }

    /**
     * Hi(password, salt, i) — PBKDF2-HMAC-SHA-256 with one output block. Written out rather than
     * taken from {@code SecretKeyFactory("PBKDF2WithHmacSHA256")} because that API takes a
     * {@code char[]} and re-encodes it, while SCRAM hashes exact bytes (the SASLprep'd form or, as
     * PostgreSQL falls back to, the raw bytes); and it rejects empty passwords. Tests cross-check
     * it against the JDK factory and ongres/scram.
     */
    static byte[] hi(byte[] password, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        Mac mac = mac(password);
        mac.update(salt);
        byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
        byte[] result = u.clone();
        try {
            for (int i = 1; i < iterations; i++) {
                mac.update(u);
                mac.doFinal(u, 0);
                for (int j = 0; j < result.length; j++) {
                    result[j] ^= u[j];
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        } finally {
            Arrays.fill(u, (byte) 0);
        }
        return result;
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Client Key");
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Server Key");
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }

    static void wipe(byte[]... arrays) {
        for (byte[] a : arrays) {
            if (a != null) {
                Arrays.fill(a, (byte) 0);
            }
        }
    }
}
