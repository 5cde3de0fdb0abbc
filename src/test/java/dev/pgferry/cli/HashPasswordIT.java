package dev.pgferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The README's way to fill the users file without a password in it: {@code java -jar quarkus-run.jar hash-password
 * USER} prints the line; the same verifier given to PostgreSQL ({@code CREATE ROLE … PASSWORD 'SCRAM-SHA-256$…'})
 * lets the user log in through the packaged pgferry with pgjdbc (pgferry reaches the server with the keys of the
 * client's proof).
 */
class HashPasswordIT {

    @Test
    void thePrintedLineLogsInThroughPgferry() throws Exception {
        PackagedJar.Outcome hashed = PackagedJar.run(List.of(), List.of("hash-password", "hash_u"), "hash pw 1\n",
                Duration.ofSeconds(60));
        assertThat(hashed.exitCode()).as(hashed.toString()).isZero();
        assertThat(hashed.lines()).as(hashed.toString()).hasSize(1);
        String line = hashed.lines().get(0);
        assertThat(line).startsWith("\"hash_u\" \"SCRAM-SHA-256$4096:").doesNotContain("hash pw");
        String verifier = line.substring("\"hash_u\" \"".length(), line.length() - 1);

        PostgresFixture pg = PostgresFixture.get();
        try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "postgres"); Statement st = c.createStatement()) {
            st.execute("DROP ROLE IF EXISTS hash_u");
            st.execute("CREATE ROLE hash_u LOGIN PASSWORD '" + verifier + "'");
        }
        Path users = Files.createTempFile("pgferry-hash-it", ".txt");
        Files.writeString(users, line + "\n");
        int port = PackagedJar.freePort();
        try (PackagedJar.Running pgferry = PackagedJar.start(PackagedJar.options("-Dpgferry.listen-host=127.0.0.1",
                "-Dpgferry.listen-port=" + port, "-Dpgferry.backend.host=" + pg.host(),
                "-Dpgferry.backend.port=" + pg.port(), "-Dpgferry.auth.users-file=" + users), List.of(), "")) {
            pgferry.await(l -> l.contains("pgferry listening on 127.0.0.1:" + port), Duration.ofSeconds(60));
            Properties props = new Properties();
            props.setProperty("user", "hash_u");
            props.setProperty("password", "hash pw 1");
            try (Connection c = new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                    props); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select current_user")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("hash_u");
            }
        } finally {
            Files.deleteIfExists(users);
        }
    }
}
