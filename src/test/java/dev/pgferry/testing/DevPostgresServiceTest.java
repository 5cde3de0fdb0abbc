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
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.postgresql.Driver;

/** Dev mode's PostgreSQL part, with the %dev settings switched on in a test profile. */
@QuarkusTest
@TestProfile(DevPostgresServiceTest.DevPostgresOn.class)
class DevPostgresServiceTest {

    static final int PORT = freePort();
    /** Per port, so test JVMs of other checkouts on this machine cannot collide; under /tmp when root (see fixture). */
    static final Path DIR = Path.of("root".equals(System.getProperty("user.name")) ? "/tmp" : "target")
            .resolve("pgferry-devservice-test-" + PORT).toAbsolutePath();

    static {
        // JUnit closes the Quarkus application (ShutdownEvent stops the cluster) before JVM shutdown hooks run
        Runtime.getRuntime().addShutdownHook(new Thread(DevPostgresServiceTest::deleteStoppedCluster));
    }

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

    private static void deleteStoppedCluster() {
        if (Files.exists(DIR.resolve("data/postmaster.pid"))) {
            return; // still running: leave it rather than pull the floor from under it
        }
        try (Stream<Path> walk = Files.walk(DIR)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover directory in target/ or /tmp is harmless
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
