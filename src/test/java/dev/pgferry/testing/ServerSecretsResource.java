package dev.pgferry.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fixture's PostgreSQL with a users file of the server's own secrets: for each user of the init argument
 * {@code users} (comma-separated) the {@code rolpassword} of {@code pg_authid} (a SCRAM verifier, or an MD5 hash for
 * md5_u), as the Kubernetes docs tell operators to fill {@code userlist.txt}, so the file holds no password. The file
 * is {@code target/server-secrets/<file>.txt} (init argument {@code file}).
 * <pre>
 * &#64;WithTestResource(value = ServerSecretsResource.class, initArgs = {
 *     &#64;ResourceArg(name = "users", value = "postgres,scram_u"), &#64;ResourceArg(name = "file", value = "scram-only")})
 * </pre>
 */
public class ServerSecretsResource extends PostgresResource {
    private List<String> users = List.of();
    private String file = "userlist";

    @Override
    public void init(Map<String, String> args) {
        users = List.of(args.getOrDefault("users", "postgres").split(","));
        file = args.getOrDefault("file", file);
    }

    @Override
    public Map<String, String> start() {
        Map<String, String> m = new HashMap<>(super.start());
        Path path = Path.of("target", "server-secrets", file + ".txt").toAbsolutePath();
        List<String> lines = new ArrayList<>();
        try (Connection c = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres");
                PreparedStatement st = c.prepareStatement("select rolpassword from pg_authid where rolname = ?")) {
            for (String user : users) {
                st.setString(1, user);
                try (ResultSet rs = st.executeQuery()) {
                    if (!rs.next() || rs.getString(1) == null) {
                        throw new IllegalStateException("no password for role " + user + " on the fixture's server");
                    }
                    lines.add("\"" + user + "\" \"" + rs.getString(1) + "\"");
                }
            }
            Files.createDirectories(path.getParent());
            Files.write(path, lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        m.put("pgferry.auth.users-file", path.toString());
        return m;
    }

    /** The secret written for {@code user} by the resource that wrote {@code file}. */
    public static String secret(String file, String user) throws IOException {
        String prefix = "\"" + user + "\" \"";
        return Files.readAllLines(Path.of("target", "server-secrets", file + ".txt")).stream()
                .filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length(), l.length() - 1))
                .findFirst().orElseThrow();
    }
}
