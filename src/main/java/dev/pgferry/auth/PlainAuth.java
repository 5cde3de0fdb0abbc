package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Cleartext password authentication (AuthenticationCleartextPassword), checked against any kind of
 * stored secret as PostgreSQL's {@code plain_crypt_verify} does.
 */
public final class PlainAuth {

    private PlainAuth() {
    }

    /**
     * @param clientPassword the PasswordMessage payload as a string, without the NUL
     * @return whether it matches; all comparisons are constant-time
     */
    public static boolean verify(UserSecret secret, String user, String clientPassword) {
        if (clientPassword == null || clientPassword.isEmpty()) {
            return false; // PostgreSQL: "empty password returned by client"
        }
        if (secret instanceof UserSecret.Plain plain) {
            // Compare digests so the running time depends on neither password's length.
            return MessageDigest.isEqual(digest(plain.password()), digest(clientPassword));
        }
        if (secret instanceof UserSecret.Md5 md5) {
            byte[] computed = Md5Auth.encrypt(clientPassword, user).getBytes(StandardCharsets.US_ASCII);
            return MessageDigest.isEqual(computed, md5.hash().getBytes(StandardCharsets.US_ASCII));
        }
        UserSecret.Scram scram = (UserSecret.Scram) secret;
        // scram_verify_plain_password: derive with the secret's salt and iterations, compare keys.
        ScramKeys derived = ScramKeys.derive(clientPassword, scram.salt(), scram.iterations());
        byte[] storedKey = derived.storedKey();
        byte[] serverKey = derived.serverKey();
        byte[] expectedStored = scram.storedKey();
        byte[] expectedServer = scram.serverKey();
        try {
            return MessageDigest.isEqual(storedKey, expectedStored) & MessageDigest.isEqual(serverKey, expectedServer);
        } finally {
            ScramCrypto.wipe(storedKey, serverKey, expectedStored, expectedServer);
        }
    }

    private static byte[] digest(String s) {
        return ScramCrypto.sha256(s.getBytes(StandardCharsets.UTF_8));
    }
}
