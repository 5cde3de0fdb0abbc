package dev.pgferry.pool;

import dev.pgferry.auth.CredentialStore;
import dev.pgferry.auth.StoredCredential;
import dev.pgferry.auth.UserSecret;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.config.EffectivePoolConfig;
import java.util.Optional;

/**
 * How the backends of a database with a forced user (PgBouncer's {@code user=} of {@code [databases]}) log in: with
 * that user's plaintext password, from its database entry or the users file. Only a password: a login of the client's
 * own would otherwise teach the pool the client's credentials. Checked at start and by RELOAD.
 */
public final class ForcedUserCredentials {
    private ForcedUserCredentials() {}

    /** The forced user's credentials for {@code database}; an IllegalStateException says which password is missing. */
    public static BackendCredentials of(EffectivePoolConfig e, CredentialStore credentials, String database) {
        String user = e.forcedUser(database).orElseThrow();
        Optional<String> password = e.forcedPassword(database).or(() -> credentials.lookup(user)
                .map(StoredCredential::secret).filter(UserSecret.Plain.class::isInstance)
                .map(s -> ((UserSecret.Plain) s).password()));
        if (password.isEmpty()) {
            throw new IllegalStateException("database \"" + database + "\" forces user \"" + user
                    + "\", which has neither a password in its entry nor a plaintext one in the users file");
        }
        return new BackendCredentials.Password(user, password.get());
    }
}
