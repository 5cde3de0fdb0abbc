package dev.pgferry.differential;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * The differential property of {@link TransactionModeDifferentialTest} (same pgferry, transaction mode) played by real
 * drivers with their defaults: pgjdbc at prepareThreshold 0, 1, 5 and -1, the Vert.x client, psycopg 3 (Debian's
 * {@code python3-psycopg}, run by {@code /usr/bin/python3}) and node-postgres ({@code pg@8} from npm, installed into
 * {@code target/node-pg}). A driver this machine lacks skips its test, saying why.
 *
 * <p>A long run of one driver: {@code ./mvnw test -Dtest='DriverDifferentialTest#psycopg' -Ddiff.steps=100000}.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TransactionModeDifferentialTest.TransactionMode.class)
class DriverDifferentialTest {
    static final int CLIENTS = TransactionModeDifferentialTest.CLIENTS;
    static final int STEPS = 300;

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private void check(String name, Set<Family> families, Supplier<Arm> proxy, Supplier<Arm> direct) throws Exception {
        String failure = Differential.check(
                new Differential.Property("driver " + name, CLIENTS, families, Param.FOR_DRIVERS, STEPS), proxy, direct);
        assertThat(failure).as("divergence").isNull();
    }

    private void jdbc(int prepareThreshold) throws Exception {
        String t = "diff.drv_jdbc" + (prepareThreshold < 0 ? "m" : "") + Math.abs(prepareThreshold);
        PostgresFixture pg = PostgresFixture.get();
        check("pgjdbc prepareThreshold=" + prepareThreshold, withoutStartup(),
                () -> new JdbcArm("127.0.0.1", port, Tables.USER, Tables.PASSWORD, Tables.DATABASE, prepareThreshold, t + "_p"),
                () -> new JdbcArm(pg.host(), pg.port(), Tables.USER, Tables.PASSWORD, Tables.DATABASE, prepareThreshold, t + "_d"));
    }

    /**
     * Every family but STARTUP: pgjdbc sends TimeZone (the JVM's) as a startup parameter of its own, and pgferry
     * lets an {@code options=-c TimeZone=..} win over it where PostgreSQL applies the explicit parameter after
     * {@code options} (see {@link #pgjdbcStartupParameters}).
     */
    static Set<Family> withoutStartup() {
        Set<Family> f = Family.all();
        f.remove(Family.STARTUP);
        return f;
    }

    @Test
    void pgjdbcStartupParameters() throws Exception {
        // no fix in progress elsewhere (as of this writing): with options=-c TimeZone=Asia/Tokyo and pgjdbc's own
        // TimeZone=Etc/UTC startup parameter, PostgreSQL's session has Etc/UTC (process_startup_options applies the
        // packet's parameters after its options), pgferry's has Asia/Tokyo
        PostgresFixture pg = PostgresFixture.get();
        String failure = Differential.check(new Differential.Property("driver pgjdbc startup", CLIENTS,
                        java.util.EnumSet.of(Family.SIMPLE, Family.STARTUP, Family.SET, Family.TRANSACTION),
                        Param.FOR_DRIVERS, STEPS),
                () -> new JdbcArm("127.0.0.1", port, Tables.USER, Tables.PASSWORD, Tables.DATABASE, 5, "diff.drv_jdbcs_p"),
                () -> new JdbcArm(pg.host(), pg.port(), Tables.USER, Tables.PASSWORD, Tables.DATABASE, 5, "diff.drv_jdbcs_d"));
        assertThat(failure).as("divergence").isNull();
    }

    @Test
    void pgjdbcNeverServerPrepared() throws Exception {
        jdbc(0);
    }

    @Test
    void pgjdbcPreparedFromFirstRun() throws Exception {
        jdbc(1);
    }

    @Test
    void pgjdbcPreparedFromFifthRun() throws Exception {
        jdbc(5);
    }

    @Test
    void pgjdbcAlwaysServerPrepared() throws Exception {
        jdbc(-1);
    }

    @Test
    void vertx() throws Exception {
        vertx("vertx", java.util.EnumSet.of(Family.SIMPLE, Family.UNNAMED, Family.NAMED, Family.PIPELINE,
                Family.TRANSACTION, Family.SAVEPOINT, Family.ERROR, Family.DDL, Family.STARTUP));
    }

    @Test
    void vertxSessionStatements() throws Exception {
        vertx("vertx_session", Family.all());
    }

    private void vertx(String name, Set<Family> families) throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        check(name, families, () -> new VertxArm("127.0.0.1", port, "diff.drv_" + name + "_p"),
                () -> new VertxArm(pg.host(), pg.port(), "diff.drv_" + name + "_d"));
    }

    @Test
    void psycopg() throws Exception {
        Path dir = Path.of("target", "differential").toAbsolutePath();
        String version = ScriptArm.probeCommand(Files.createDirectories(dir), "/usr/bin/python3", "-c",
                "import psycopg; print('psycopg', psycopg.__version__)");
        assumeTrue(version.startsWith("psycopg 3"),
                "psycopg 3 is not installed for /usr/bin/python3 (Debian package python3-psycopg): psycopg arm skipped: "
                        + version);
        Path script = ScriptArm.script(dir, "psycopg_arm.py");
        List<String> command = List.of("/usr/bin/python3", script.toString());
        PostgresFixture pg = PostgresFixture.get();
        check("psycopg", Family.all(), () -> new ScriptArm(dir, command, "127.0.0.1", port, "diff.drv_psycopg_p"),
                () -> new ScriptArm(dir, command, pg.host(), pg.port(), "diff.drv_psycopg_d"));
    }

    @Test
    void nodePostgres() throws Exception {
        nodePostgres("node", withoutStartup());
    }

    @Test
    void nodePostgresStartupParameters() throws Exception {
        nodePostgres("node_startup", Family.all());
    }

    private void nodePostgres(String name, Set<Family> families) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "node-pg").toAbsolutePath());
        String node = ScriptArm.probeCommand(dir, "node", "--version");
        assumeTrue(node.startsWith("v"), "Node.js is not installed here: node-postgres arm skipped: " + node);
        if (!Files.isDirectory(dir.resolve("node_modules/pg"))) {
            String install = ScriptArm.probeCommand(dir, "npm", "install", "--no-audit", "--no-fund", "--silent", "pg@8");
            assumeTrue(Files.isDirectory(dir.resolve("node_modules/pg")),
                    "npm could not install pg (no registry access?): node-postgres arm skipped: " + install);
        }
        Path script = ScriptArm.script(dir, "node_pg_arm.js");
        List<String> command = List.of("node", script.toString());
        PostgresFixture pg = PostgresFixture.get();
        check(name, families, () -> new ScriptArm(dir, command, "127.0.0.1", port, "diff.drv_" + name + "_p"),
                () -> new ScriptArm(dir, command, pg.host(), pg.port(), "diff.drv_" + name + "_d"));
    }
}
