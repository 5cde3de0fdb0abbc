package dev.pgferry.auth;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link CredentialStore} backed by a PgBouncer-format users file.
 *
 * <p>Reads take no lock: they see one immutable map, swapped atomically by {@link #reload()}. A user
 * whose secret did not change keeps its {@link StoredCredential}, so its derived SCRAM keys (salt
 * included) survive a reload and are not derived again.
 */
public final class FileCredentialStore implements CredentialStore {

    private final Path path;
    private volatile Map<String, StoredCredential> credentials = Map.of();

    /** Reads {@code path} now. */
    public FileCredentialStore(Path path) throws IOException {
        this.path = Objects.requireNonNull(path, "path");
        reload();
    }

    /**
     * Re-reads the file and swaps the map in one step. On any error the previous map stays in force.
     *
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException "path: line N: …" if the file is malformed
     */
    public synchronized void reload() throws IOException {
        Map<String, UserSecret> parsed;
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            parsed = UserList.parse(reader);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
        Map<String, StoredCredential> previous = credentials;
        Map<String, StoredCredential> next = new HashMap<>(parsed.size() * 2);
        parsed.forEach((user, secret) -> {
            StoredCredential old = previous.get(user);
            next.put(user, old != null && old.secret().equals(secret) ? old : new StoredCredential(user, secret));
        });
        credentials = Map.copyOf(next);
    }

    @Override
    public Optional<StoredCredential> lookup(String user) {
        return user == null ? Optional.empty() : Optional.ofNullable(credentials.get(user));
    }

    /** The users currently loaded, in no particular order (SHOW USERS). */
    public java.util.Set<String> users() {
        return credentials.keySet();
    }

    /** Number of users currently loaded. */
    public int size() {
        return credentials.size();
    }

    public Path path() {
        return path;
    }
}
