package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.testing.NodePostgres;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 22's scenario with each driver's default settings, through pgferry in transaction mode with a pool of two:
 * 200 clients each LISTEN on one of 10 channels; NOTIFYs come from two other clients through pgferry and from a
 * direct connection; each client gets exactly its channel's notifications, in order, with the payloads sent and the
 * sender's pid; and database {@code bench} never has more than the pool's two backends and the listener's. The
 * client side is psycopg 3 ({@code notifies()}), node-postgres ({@code 'notification'} event) or the Vert.x client
 * ({@code notificationHandler}); the first two are skipped, saying why, where python3/psycopg or node/npm is missing.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ListenFanoutDriversProfile.class)
class ListenFanoutDriversTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "md5_u";
    static final String DB = "bench";
    static final int CLIENTS = 200;
    static final int CHANNELS = 10;
    static final int ROUNDS = 20;
    /** The application name of the scripts' direct connections, which pgferry's backends are counted without. */
    static final String DIRECT_APP = "notify direct";
    static final String OK = "ok " + CLIENTS + " clients, " + CLIENTS * ROUNDS + " notifications";

    /** The scripts' arguments after the interpreter and script. */
    private List<String> args(String prefix) {
        PostgresFixture pg = PostgresFixture.get();
        return List.of(Clients.HOST, String.valueOf(port), pg.host(), String.valueOf(pg.port()), USER,
                Clients.PASSWORDS.get(USER), DB, prefix, String.valueOf(CLIENTS), String.valueOf(CHANNELS),
                String.valueOf(ROUNDS));
    }

    @Test
    @Timeout(300)
    void psycopgNotifiesThroughAPoolOfTwo() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "no /usr/bin/python3: psycopg test skipped");
        Process check = new ProcessBuilder(python.toString(), "-c", "import psycopg").redirectErrorStream(true).start();
        assumeTrue(check.waitFor(30, TimeUnit.SECONDS) && check.exitValue() == 0,
                "psycopg 3 is not installed (Debian: apt-get install python3-psycopg): psycopg test skipped");
        Path dir = Path.of("target", "notify").toAbsolutePath();
        Files.createDirectories(dir);
        Path script = dir.resolve("listen_fanout.py");
        Files.writeString(script, resource("listen_fanout.py"));
        List<String> command = new ArrayList<>(List.of(python.toString(), script.toString()));
        command.addAll(args("psy_"));
        assertFannedOutOnThreeBackends(() -> {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(200, TimeUnit.SECONDS)).as(out).isTrue();
            return out;
        });
    }

    @Test
    @Timeout(400)
    void nodePostgresNotificationEventsThroughAPoolOfTwo() throws Exception {
        String script = resource("listen_fanout.js");
        assertFannedOutOnThreeBackends(
                () -> NodePostgres.run("listen_fanout.js", script, args("node_").toArray(String[]::new)));
    }

    @Test
    @Timeout(300)
    void vertxNotificationHandlersThroughAPoolOfTwo() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        PgConnectOptions proxy = new PgConnectOptions().setHost(Clients.HOST).setPort(port).setDatabase(DB)
                .setUser(USER).setPassword(Clients.PASSWORDS.get(USER));
        PgConnectOptions direct = new PgConnectOptions(proxy).setHost(pg.host()).setPort(pg.port())
                .addProperty("application_name", DIRECT_APP);
        assertFannedOutOnThreeBackends(
                () -> VertxListenFanout.run(proxy, direct, "vx_", CLIENTS, CHANNELS, ROUNDS));
    }

    /** Runs {@code scenario}, expecting its "ok …" line, while pg_stat_activity is sampled for database bench. */
    private void assertFannedOutOnThreeBackends(Callable<String> scenario) throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        BenchBackends backends = new BenchBackends(pool);
        try {
            String out = scenario.call();
            int most = backends.most();
            System.out.println("listen fan-out: " + out.strip() + "; most backends of bench: " + most);
            assertThat(out).contains(OK);
            assertThat(most)
                    .as("backends of database bench besides the direct notifier: the pool's two and the listener")
                    .isBetween(1, ListenFanoutDriversProfile.POOL_SIZE + 1);
        } finally {
            backends.stop();
            pool.shutdownNow();
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream s = ListenFanoutDriversTest.class.getResourceAsStream("/notify/" + name)) {
            return new String(s.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The most client backends database bench had (the direct notifier's aside), sampled every 20 ms. */
    static final class BenchBackends {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger most = new AtomicInteger();
        private final Future<?> sampler;

        BenchBackends(ExecutorService pool) {
            sampler = pool.submit(() -> {
                try (Connection c = Clients.direct("postgres"); Statement st = c.createStatement()) {
                    while (running.get()) {
                        try (ResultSet rs = st.executeQuery("select count(*) from pg_stat_activity where datname = '"
                                + DB + "' and backend_type = 'client backend' and application_name <> '" + DIRECT_APP
                                + "'")) {
                            rs.next();
                            most.accumulateAndGet(rs.getInt(1), Math::max);
                        }
                        Thread.sleep(20);
                    }
                }
                return null;
            });
        }

        /** Stops sampling (a failed sample is thrown here) and returns the most seen. */
        int most() throws Exception {
            running.set(false);
            sampler.get();
            return most.get();
        }

        void stop() {
            running.set(false);
        }
    }
}
