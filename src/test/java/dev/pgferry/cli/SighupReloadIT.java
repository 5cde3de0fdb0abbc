package dev.pgferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SIGHUP does what RELOAD does, as PgBouncer's: the packaged jar started from a pgbouncer.ini re-reads it on the
 * signal and applies a changed pool size; a file broken since keeps the running configuration and logs the error
 * with file and line. (RELOAD itself is PgBouncerIniReloadTest.)
 */
class SighupReloadIT {

    private static String ini(String poolSize, String extra) {
        return """
                [databases]
                app = host=127.0.0.1 port=5432 dbname=app

                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = 6432
                auth_type = md5
                default_pool_size = %s
                %s""".formatted(poolSize, extra);
    }

    private static void hangUp(Process p) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
    }

    @Test
    void sighupRereadsThePgbouncerIniAndKeepsTheRunningOneWhenItIsBroken() throws Exception {
        Path dir = Files.createTempDirectory("pgferry-it-hup");
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(ini, ini("20", ""));
        try {
            PackagedJar.Running jar = PackagedJar.start(PackagedJar.options(
                    "-Dpgferry.listen-port=" + PackagedJar.freePort(), "-Dpgferry.pgbouncer-ini=" + ini), List.of(), "");
            try (jar) {
                // the handler is installed by a StartupEvent observer: wait for the start to be over
                jar.await(l -> l.contains("started in"), Duration.ofSeconds(90));
                Files.writeString(ini, ini("10", ""));
                hangUp(jar.process);
                assertThat(jar.await(l -> l.contains("SIGHUP: settings reloaded"), Duration.ofSeconds(30)))
                        .contains("pgferry.pool.size applied");
                Files.writeString(ini, ini("10", "pool_mode = statement\n"));
                hangUp(jar.process);
                assertThat(jar.await(l -> l.contains("SIGHUP: could not reload"), Duration.ofSeconds(30)))
                        .contains("ERROR").contains("the running one stays in force")
                        .contains("pool_mode = statement cannot be honoured").contains(ini + ":9)");
                assertThat(jar.process.isAlive()).isTrue();
            }
        } finally {
            Files.deleteIfExists(ini);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * A SIGHUP while pgferry starts (before its reload handler is in place) is ignored with a log line; the JVM's own
     * handler would end the process (exit 129). Whether a signal lands in that window depends on timing: the
     * deterministic check is SighupIgnoredUntilStartedTest.
     */
    @Test
    void aSighupWhileStartingDoesNotStopPgferry() throws Exception {
        Path dir = Files.createTempDirectory("pgferry-it-hup");
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(ini, ini("20", ""));
        try {
            PackagedJar.Running jar = PackagedJar.start(PackagedJar.options(
                    "-Dpgferry.listen-port=" + PackagedJar.freePort(), "-Dpgferry.pgbouncer-ini=" + ini), List.of(), "");
            try (jar) {
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (jar.lines().stream().allMatch(String::isBlank) && System.nanoTime() < deadline) {
                    Thread.sleep(2); // its first line: main is running (a signal before main ends any JVM)
                }
                // a SIGHUP every few milliseconds until pgferry has started: some land before its reload handler
                while (jar.process.isAlive() && jar.lines().stream().noneMatch(l -> l.contains("started in"))
                        && System.nanoTime() < deadline) {
                    hangUp(jar.process);
                    Thread.sleep(5);
                }
                assertThat(jar.process.isAlive()).as(String.join("\n", jar.lines())).isTrue();
                assertThat(jar.lines()).anyMatch(l -> l.contains("started in"));
            }
        } finally {
            Files.deleteIfExists(ini);
            Files.deleteIfExists(dir);
        }
    }
}
