package dev.pgferry.onboarding;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fixture's PostgreSQL with pgferry.auth.hba-file set to {@link #FILE} ({@link #RULES}), and a users file of its
 * own where scram_u has its server's SCRAM verifier instead of its password: an {@code md5} line then has to ask
 * scram_u for SCRAM, as PostgreSQL does, and pgferry logs in to the server with the keys of the client's proof.
 */
public class HbaFileResource extends PostgresResource {
    static final Path DIR = Path.of("target", "hba-file").toAbsolutePath();
    static final Path FILE = DIR.resolve("hba.conf");
    static final Path USERS = DIR.resolve("userlist.txt");

    static final String RULES = """
            # TYPE   DATABASE          USER          ADDRESS          METHOD
            local    postgres          md5_u                          trust
            local    all               all                            reject
            hostssl  all               plain_u       127.0.0.1/32     password
            host     bench             md5_u         127.0.0.1/32     reject
            host     all               postgres      127.0.0.1/32     trust
            host     postgres          scram_u       127.0.0.0/8      scram-sha-256
            host     bench             scram_u       127.0.0.1/32     md5
            host     postgres          md5_u,nobody  127.0.0.1/32     md5
            """;

    @Override
    public Map<String, String> start() {
        Map<String, String> m = new HashMap<>(super.start());
        PostgresFixture pg = PostgresFixture.get();
        try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "postgres"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select rolpassword from pg_authid where rolname = 'scram_u'")) {
            rs.next();
            String verifier = rs.getString(1);
            List<String> users = Files.readAllLines(pg.usersFile()).stream()
                    .map(l -> l.startsWith("\"scram_u\"") ? "\"scram_u\" \"" + verifier + "\"" : l).toList();
            Files.createDirectories(DIR);
            Files.write(USERS, users);
            Files.writeString(FILE, RULES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        m.put("pgferry.auth.users-file", USERS.toString());
        m.put("pgferry.auth.hba-file", FILE.toString());
        return m;
    }
}
