package dev.pgferry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.devservice.LocalPostgres;
import dev.pgferry.devservice.LocalPostgresException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What dev mode relies on: a cluster of its own in a fresh directory, reused while it runs, stopped cleanly. */
class LocalPostgresTest {

    private static Path dir;
    private static int port;

    @BeforeAll
    static void freshDirectory() throws IOException {
        dir = Files.createTempDirectory("pgferry-local-postgres-test");
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
    }

    @AfterAll
    static void deleteDirectory() throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void startsAnswersIsReusedRestartsAndStops() {
        LocalPostgres pg = LocalPostgres.start(dir, port, "dev-pw");
        try {
            assertThat(pg.psql("select 1").strip()).isEqualTo("1");
            assertThat(pg.psql("bench", "select current_database()").strip()).isEqualTo("bench");
            assertThat(pg.psql("show max_connections").strip()).isEqualTo("600");
            assertThat(pg.binDir().resolve("initdb")).isExecutable();

            LocalPostgres again = LocalPostgres.start(dir, port, "dev-pw");
            assertThat(again.psql("select 1").strip()).isEqualTo("1");

            String before = pg.psql("select pg_postmaster_start_time()");
            pg.restart();
            assertThat(pg.psql("select pg_postmaster_start_time()")).isNotEqualTo(before);

            try (LocalPostgres.Outage outage = pg.stopped()) {
                assertThat(pg.isRunning()).isFalse();
                assertThatThrownBy(() -> pg.psql("select 1")).isInstanceOf(LocalPostgresException.class);
            }
            assertThat(pg.psql("select 1").strip()).isEqualTo("1");
        } finally {
            pg.stop();
        }
        assertThat(pg.isRunning()).isFalse();
        pg.stop(); // stopping a stopped cluster is a no-op

        // a stopped cluster starts again from its directory, without a new initdb
        LocalPostgres restarted = LocalPostgres.start(dir, port, "dev-pw");
        try {
            assertThat(restarted.psql("select count(*) from pg_roles where rolname in ('scram_u','md5_u','plain_u')")
                    .strip()).isEqualTo("3");
        } finally {
            restarted.stop();
        }
    }
}
