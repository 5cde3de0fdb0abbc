package dev.pgferry.backend;

import dev.pgferry.auth.UserList;
import dev.pgferry.auth.UserSecret;
import dev.pgferry.config.PgferryConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Whom the readiness and role checks log in as: {@code pgferry.health.check-user} if set, else the first users-file entry
 * whose secret can open a backend (plaintext or MD5; a SCRAM verifier cannot answer a server's challenge). Where the
 * configuration gives no such secret (a users file of SCRAM verifiers only, as the Kubernetes manifests recommend, or
 * none at all) the check does not log in: it asks whether the server accepts connections as {@code pg_isready} does
 * ({@link BackendCredentials.Ping}), which a trusting server still answers with a full login.
 * The file is read on every call, so edits and RELOAD apply; called off the event loops.
 */
public final class CheckCredentials {
    private CheckCredentials() {}

    public static BackendCredentials resolve(PgferryConfig config) throws IOException {
        Optional<String> wanted = config.health().checkUser();
        Optional<Path> file = config.auth().usersFile();
        if (file.isEmpty()) {
            return new BackendCredentials.Ping(wanted.orElse("postgres"));
        }
        Map<String, UserSecret> users;
        try (Reader r = Files.newBufferedReader(file.get(), StandardCharsets.UTF_8)) {
            users = UserList.parse(r);
        }
        if (wanted.isPresent()) {
            UserSecret s = users.get(wanted.get());
            return s == null ? new BackendCredentials.Ping(wanted.get()) : of(wanted.get(), s);
        }
        for (Map.Entry<String, UserSecret> e : users.entrySet()) {
            if (!(e.getValue() instanceof UserSecret.Scram)) {
                return of(e.getKey(), e.getValue());
            }
        }
        return new BackendCredentials.Ping(users.isEmpty() ? "postgres" : users.keySet().iterator().next());
    }

    private static BackendCredentials of(String user, UserSecret secret) {
        if (secret instanceof UserSecret.Plain p) {
            return new BackendCredentials.Password(user, p.password());
        }
        if (secret instanceof UserSecret.Md5 m) {
            return new BackendCredentials.Md5Hash(user, m.hash());
        }
        return new BackendCredentials.Ping(user);
    }
}
