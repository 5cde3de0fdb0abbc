package dev.pgferry.admin;

import dev.pgferry.auth.FileCredentialStore;
import dev.pgferry.auth.StoredCredential;
import dev.pgferry.auth.UserSecret;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.config.EffectivePoolConfig;
import dev.pgferry.pool.Pool;
import dev.pgferry.session.SessionContext;
import java.io.IOException;
import java.util.Optional;

/**
 * Re-reads the users file (RELOAD, SIGHUP) and gives existing pools the new plaintext or MD5 secrets for the
 * backends they open from now on. Connections stay open. Pool sizes and every other setting come from Quarkus
 * configuration, read once at start: they need a restart. Blocking file I/O: never call it on an event loop.
 */
final class UsersReload {
    private UsersReload() {}

    /** Returns a one-line summary; throws with the file's error, leaving the previous users in force. */
    static String run(SessionContext sc) throws IOException {
        if (!(sc.credentials() instanceof FileCredentialStore store)) {
            return "no pgferry.auth.users-file to reload";
        }
        store.reload();
        int updated = 0;
        EffectivePoolConfig effective = new EffectivePoolConfig(sc.config());
        for (Pool p : sc.pools().all()) {
            if (effective.forcedUser(p.key().database()).isPresent()) {
                continue; // its backends log in as the database's forced user, not as the client's
            }
            Optional<BackendCredentials> c = backendCredentials(store, p.key().user());
            if (c.isPresent() && !c.get().equals(p.credentials())) {
                p.credentials(c.get());
                updated++;
            }
        }
        return "reloaded " + store.path() + ": " + store.size() + " users, new secrets for " + updated + " pools";
    }

    private static Optional<BackendCredentials> backendCredentials(FileCredentialStore store, String user) {
        Optional<UserSecret> secret = store.lookup(user).map(StoredCredential::secret);
        if (secret.isPresent() && secret.get() instanceof UserSecret.Plain plain) {
            return Optional.of(new BackendCredentials.Password(user, plain.password()));
        }
        if (secret.isPresent() && secret.get() instanceof UserSecret.Md5 md5) {
            return Optional.of(new BackendCredentials.Md5Hash(user, md5.hash()));
        }
        return Optional.empty(); // SCRAM verifiers: keys learned from a client's login stay in use
    }
}
