package dev.pgferry.admin;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The shared fixture's PostgreSQL with a users file of this application's own ({@link #FILE}), which a test may
 * rewrite before RELOAD without touching the file other test classes log in with. It starts as the fixture's
 * without {@code plain_u}.
 */
public class PrivateUsersFileResource extends PostgresResource {
    static final Path FILE = Path.of("target", "admin-reload", "userlist.txt").toAbsolutePath();

    @Override
    public Map<String, String> start() {
        Map<String, String> m = new HashMap<>(super.start());
        try {
            Files.createDirectories(FILE.getParent());
            Files.write(FILE, initialLines());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        m.put("pgferry.auth.users-file", FILE.toString());
        return m;
    }

    /** The fixture's users file without plain_u. */
    static List<String> initialLines() throws IOException {
        return Files.readAllLines(PostgresFixture.get().usersFile()).stream()
                .filter(l -> !l.startsWith("\"plain_u\"")).toList();
    }

    /** The fixture's line for {@code user}. */
    static String fixtureLine(String user) throws IOException {
        return Files.readAllLines(PostgresFixture.get().usersFile()).stream()
                .filter(l -> l.startsWith("\"" + user + "\"")).findFirst().orElseThrow();
    }
}
