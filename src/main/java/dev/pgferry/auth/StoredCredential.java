package dev.pgferry.auth;

import java.security.SecureRandom;
import java.util.Objects;
import java.util.Optional;

/**
 * A user's secret plus the SCRAM keys derived from it, computed at most once per credential so a
 * login costs no PBKDF2:
 * <ul>
 *   <li>{@link UserSecret.Plain}: derived on first use with a random 16-byte salt and 4096
 *       iterations; the ClientKey is known;</li>
 *   <li>{@link UserSecret.Scram}: taken from the secret; the ClientKey is unknown;</li>
 *   <li>{@link UserSecret.Md5}: none — as in PostgreSQL, an MD5 secret cannot do SCRAM (the server
 *       side then runs a mock exchange that fails).</li>
 * </ul>
 * Thread-safe.
 */
public final class StoredCredential {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String user;
    private final UserSecret secret;
    private final SecureRandom random;
    private volatile Optional<ScramKeys> scramKeys;

    public StoredCredential(String user, UserSecret secret) {
        this(user, secret, RANDOM);
    }

    StoredCredential(String user, UserSecret secret, SecureRandom random) {
        this.user = Objects.requireNonNull(user, "user");
        this.secret = Objects.requireNonNull(secret, "secret");
        this.random = random;
    }

    public String user() {
        return user;
    }

    public UserSecret secret() {
        return secret;
    }

    /** SCRAM keys for the server side of a login; derived on the first call, then cached. */
    public Optional<ScramKeys> scramKeys() {
        Optional<ScramKeys> keys = scramKeys;
        if (keys == null) {
            synchronized (this) {
                keys = scramKeys;
                if (keys == null) {
                    keys = derive();
                    scramKeys = keys;
                }
            }
        }
        return keys;
    }

    private Optional<ScramKeys> derive() {
        if (secret instanceof UserSecret.Plain plain) {
            byte[] salt = new byte[ScramKeys.DEFAULT_SALT_LENGTH];
            random.nextBytes(salt);
            return Optional.of(ScramKeys.derive(plain.password(), salt, ScramKeys.DEFAULT_ITERATIONS));
        }
        if (secret instanceof UserSecret.Scram scram) {
            return Optional.of(ScramKeys.of(scram));
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "StoredCredential[user=" + user + ", secret=" + secret + "]";
    }
}
