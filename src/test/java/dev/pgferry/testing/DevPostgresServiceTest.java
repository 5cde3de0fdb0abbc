package dev.pgferry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

/** Dev mode's PostgreSQL part, with the %dev settings switched on in a test profile. */
@QuarkusTest
@TestProfile(DevPostgresServiceTest.DevPostgresOn.class)
class DevPostgresServiceTest {

    /** One directory, reused run after run (a stopped cluster starts again without initdb). */
    static final Path DIR = Path.of("root".equals(System.getProperty("user.name")) ? "/tmp" : "target")
            .resolve("pgferry-devservice-test").toAbsolutePath();
    static final int PORT = freePort();

    public static class DevPostgresOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pgferry.dev-postgres.enabled", "true",
                    "pgferry.dev-postgres.directory", DIR.toString(),
                    "pgferry.dev-postgres.password", "dev-secret",
                    "pgferry.backend.port", Integer.toString(PORT),
                    "pgferry.auth.users-file", DIR.resolve("userlist.txt").toString());
        }
    }

    @Test
    void startsTheClusterAndWritesTheUsersFile() throws SQLException, IOException {
        try (Connection c = connect("bench", "md5_u", "md5_pw"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
            assertThat(rs.next()).isTrue();
        }
        try (Connection c = connect("postgres", "postgres", "dev-secret")) {
            assertThat(c.isValid(5)).isTrue();
        }
        assertThat(Files.readAllLines(DIR.resolve("userlist.txt"))).containsExactly(
                "\"postgres\" \"dev-secret\"",
                "\"scram_u\" \"scram_pw\"",
                "\"md5_u\" \"md5_pw\"",
                "\"plain_u\" \"plain_pw\"");
    }

    private static Connection connect(String database, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        return new Driver().connect("jdbc:postgresql://127.0.0.1:" + PORT + "/" + database, props);
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
