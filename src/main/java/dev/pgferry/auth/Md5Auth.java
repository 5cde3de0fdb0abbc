package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * PostgreSQL's MD5 password scheme ({@code common/md5_common.c}, {@code libpq/crypt.c}):
 * stored hash {@code "md5" + hex(md5(password + user))}; on the wire, for a 4-byte salt,
 * {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}.
 */
public final class Md5Auth {

    private static final HexFormat HEX = HexFormat.of();

    private Md5Auth() {
    }

    /** {@code "md5" + hex(md5(password + user))}, what {@code CREATE ROLE … PASSWORD} stores under MD5. */
    public static String encrypt(String password, String user) {
        byte[] input = (password + user).getBytes(StandardCharsets.UTF_8);
        try {
            return "md5" + HEX.formatHex(md5(input));
        } finally {
            ScramCrypto.wipe(input);
        }
    }

    /**
     * The PasswordMessage payload answering AuthenticationMD5Password, without the trailing NUL.
     *
     * @param md5HashOrPassword a stored {@code md5…} hash, or a plaintext password
     * @param salt the 4 bytes of AuthenticationMD5Password
     */
    public static byte[] response(String md5HashOrPassword, String user, byte[] salt) {
        if (salt == null || salt.length != 4) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes");
        }
        String hash = UserSecret.Md5.isMd5Hash(md5HashOrPassword)
                ? md5HashOrPassword
                : encrypt(md5HashOrPassword, user);
        byte[] hexPart = hash.substring(3).getBytes(StandardCharsets.US_ASCII);
        byte[] input = new byte[hexPart.length + 4];
        System.arraycopy(hexPart, 0, input, 0, hexPart.length);
        System.arraycopy(salt, 0, input, hexPart.length, 4);
        try {
            return ("md5" + HEX.formatHex(md5(input))).getBytes(StandardCharsets.US_ASCII);
        } finally {
            ScramCrypto.wipe(hexPart, input);
        }
    }

    /**
     * Checks a client's PasswordMessage payload (without the NUL) in constant time. A SCRAM secret
     * never verifies: as in PostgreSQL, MD5 authentication is impossible with a SCRAM secret.
     */
    public static boolean verify(UserSecret secret, String user, byte[] salt, byte[] clientResponse) {
        if (clientResponse == null) {
            return false;
        }
        byte[] expected;
        if (secret instanceof UserSecret.Plain plain) {
            expected = response(plain.password(), user, salt);
        } else if (secret instanceof UserSecret.Md5 md5) {
            expected = response(md5.hash(), user, salt);
        } else {
            return false;
        }
        try {
            // expected is first: isEqual's running time depends on its first argument's length only.
            return MessageDigest.isEqual(expected, clientResponse);
        } finally {
            ScramCrypto.wipe(expected);
        }
    }

    static byte[] md5(byte[] input) {
        try {
            return MessageDigest.getInstance("MD5").digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is not available", e);
        }
    }
}
