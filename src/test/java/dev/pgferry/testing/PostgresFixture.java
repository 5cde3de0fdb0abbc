package dev.pgferry.testing;

import dev.pgferry.devservice.DbUser;
import dev.pgferry.devservice.DevRoles;
import dev.pgferry.devservice.LocalPostgres;
import dev.pgferry.devservice.LocalPostgresException;
import dev.pgferry.devservice.PostgresBinaries;
import dev.pgferry.devservice.PostgresNotInstalledException;
import dev.pgferry.devservice.UserlistFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.postgresql.Driver;

/**
 * The one PostgreSQL of this test JVM, started on first use and stopped by a shutdown hook: local binaries
 * ({@link LocalPostgres}) where they exist, else Testcontainers where Docker answers, else a failure saying what
 * to install.
 *
 * <p>Roles: {@link #SUPERUSER} {@code postgres/secret} and {@link DevRoles#USERS} (scram_u, md5_u, plain_u), each
 * admitted only by its own password method; databases {@code postgres} and {@code bench}. {@link #usersFile()}
 * lists all four with their plaintext passwords in PgBouncer format.
 *
 * <p>Quarkus may load this class in more than one class loader of the same JVM (JUnit's and the application's);
 * the first instance publishes its cluster in a system property and later ones attach to it, so there is still
 * one cluster per JVM.
 */
public final class PostgresFixture {

    /** The superuser, authenticated with SCRAM-SHA-256. */
    public static final DbUser SUPERUSER = new DbUser(LocalPostgres.SUPERUSER, "secret", "scram-sha-256");

    // not under "pgferry.": Quarkus rejects system properties there that PgferryConfig does not declare
    private static final String SHARED_PROPERTY = "dev.pgferry.testing.postgres";
    private static final String SHARED_REPLICA_PROPERTY = "dev.pgferry.testing.postgres-replica";
    private static final String CONTAINER_IMAGE =
            System.getProperty("dev.pgferry.testing.postgres-image", "postgres:17-alpine");
    private static final int START_ATTEMPTS = 3;

    private static final Driver DRIVER = new Driver();

    private static PostgresFixture instance;
    private static PostgresFixture replica;

    private final String host;
    private final int port;
    private final Path usersFile;
    private final LocalPostgres local;

    private PostgresFixture(String host, int port, Path usersFile, LocalPostgres local) {
        this.host = host;
        this.port = port;
        this.usersFile = usersFile;
        this.local = local;
    }

    /** The cluster of this JVM, started on the first call. */
    public static synchronized PostgresFixture get() {
        if (instance == null) {
            String shared = System.getProperty(SHARED_PROPERTY);
            instance = shared != null ? attach(shared) : startNew();
        }
        return instance;
    }

    /**
     * A streaming replica of {@link #get()} ({@code pg_basebackup -R}) on another port, started on the first call
     * (once per JVM, only for tests that ask) and stopped at JVM exit. It answers and is in recovery when this
     * returns; same roles and passwords as the primary. Needs local binaries.
     *
     * <p>In another class loader of the JVM the replica is attached by address and directory; {@link #local()} can stop
     * and start it there too.
     */
    public static synchronized PostgresFixture replica() {
        if (replica == null) {
            PostgresFixture primary = get();
            String shared = System.getProperty(SHARED_REPLICA_PROPERTY);
            if (shared != null) {
                String[] parts = shared.split("\\|", -1);
                int port = Integer.parseInt(parts[1]);
                // a handle only (no role setup: a standby is read-only), so that fault tests can stop it here too
                LocalPostgres standby = LocalPostgres.attach(Path.of(parts[2]), port, SUPERUSER.password());
                replica = new PostgresFixture(parts[0], port, primary.usersFile, standby);
            } else {
                replica = startReplica(primary);
                System.setProperty(SHARED_REPLICA_PROPERTY, replica.host + "|" + replica.port + "|"
                        + replica.local.directory());
            }
        }
        return replica;
    }

    private static PostgresFixture startReplica(PostgresFixture primary) {
        LocalPostgresException last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            int port = freePort();
            try {
                LocalPostgres standby = primary.local().startStandby(clusterDirectory(port), port);
                Runtime.getRuntime().addShutdownHook(
                        new Thread(() -> stopAndDelete(standby), "pgferry-test-replica-stop"));
                return new PostgresFixture(standby.host(), port, primary.usersFile, standby);
            } catch (LocalPostgresException e) {
                last = e;
            }
        }
        throw last;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** PgBouncer {@code userlist.txt} with {@code postgres}, scram_u, md5_u and plain_u and their passwords. */
    public Path usersFile() {
        return usersFile;
    }

    /** {@code jdbc:postgresql://host:port/database}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The superuser and the three method-specific users. */
    public List<DbUser> users() {
        List<DbUser> all = new ArrayList<>();
        all.add(SUPERUSER);
        all.addAll(DevRoles.USERS);
        return List.copyOf(all);
    }

    /** A direct JDBC connection to the cluster (not through pgferry). */
    public Connection connect(DbUser user, String database) throws SQLException {
        return connect(user.name(), user.password(), database);
    }

    /**
     * A direct JDBC connection as any user and password. Goes to pgjdbc's {@link Driver} itself, not through
     * {@link java.sql.DriverManager}: once a {@code @QuarkusTest} has run, the driver registered there belongs to
     * Quarkus's class loader, and DriverManager hides it from a plain test ("No suitable driver found").
     */
    public Connection connect(String user, String password, String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        return DRIVER.connect(jdbcUrl(database), props);
    }

    /** True when the cluster runs from local binaries, so {@link #local()} can stop, crash and restart it. */
    public boolean isLocal() {
        return local != null;
    }

    /**
     * The handle for fault tests (stop, crash, restart, psql).
     *
     * @throws IllegalStateException when the cluster is a container; guard such tests with {@link #isLocal()}
     */
    public LocalPostgres local() {
        if (local == null) {
            throw new IllegalStateException("PostgreSQL runs in a container here: install local binaries ("
                    + PostgresBinaries.installCommand() + ") for tests that stop or restart it");
        }
        return local;
    }

    private static PostgresFixture startNew() {
        Optional<PostgresNotInstalledException> missing = binariesMissing();
        PostgresFixture fixture = missing.isEmpty() ? startLocal() : ContainerPostgres.startOrExplain(missing.get());
        System.setProperty(SHARED_PROPERTY, (fixture.isLocal() ? "local" : "container") + "|" + fixture.host + "|"
                + fixture.port + "|" + fixture.usersFile + "|"
                + (fixture.isLocal() ? fixture.local.directory() : ""));
        return fixture;
    }

    private static Optional<PostgresNotInstalledException> binariesMissing() {
        try {
            PostgresBinaries.locate();
            return Optional.empty();
        } catch (PostgresNotInstalledException e) {
            return Optional.of(e);
        }
    }

    private static PostgresFixture startLocal() {
        LocalPostgresException last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            // a free port can be taken between our probe and the postmaster's bind: try another
            int port = freePort();
            Path dir = clusterDirectory(port);
            try {
                LocalPostgres pg = LocalPostgres.start(dir, port, SUPERUSER.password());
                Runtime.getRuntime().addShutdownHook(new Thread(() -> stopAndDelete(pg), "pgferry-test-postgres-stop"));
                Path usersFile = dir.resolve("userlist.txt");
                PostgresFixture fixture = new PostgresFixture(pg.host(), port, usersFile, pg);
                UserlistFile.write(usersFile, fixture.users());
                return fixture;
            } catch (PostgresNotInstalledException e) {
                throw e;
            } catch (LocalPostgresException e) {
                last = e;
            }
        }
        throw last;
    }

    private static PostgresFixture attach(String shared) {
        String[] parts = shared.split("\\|", -1);
        int port = Integer.parseInt(parts[2]);
        Path usersFile = Path.of(parts[3]);
        if (parts[0].equals("local")) {
            // the cluster runs and answers, so this reuses it; the owner's shutdown hook stops it
            return new PostgresFixture(parts[1], port, usersFile,
                    LocalPostgres.start(Path.of(parts[4]), port, SUPERUSER.password()));
        }
        return new PostgresFixture(parts[1], port, usersFile, null);
    }

    /**
     * {@code target/pgferry-test-<port>}; {@code /tmp/pgferry-test-<port>} when running as root, because the
     * OS user {@code postgres} must reach the directory and a checkout under /root is closed to it.
     */
    private static Path clusterDirectory(int port) {
        Path target = Path.of("target");
        boolean root = "root".equals(System.getProperty("user.name"));
        Path base = !root && Files.isDirectory(target) ? target : Path.of("/tmp");
        return base.resolve("pgferry-test-" + port).toAbsolutePath();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    private static void stopAndDelete(LocalPostgres pg) {
        try {
            pg.stop();
            try (Stream<Path> walk = Files.walk(pg.directory())) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (RuntimeException | IOException e) {
            System.err.println("pgferry test PostgreSQL in " + pg.directory() + " not cleaned up: " + e);
        }
    }

    /** Testcontainers, kept apart so its classes load only when needed. */
    static final class ContainerPostgres {

        private ContainerPostgres() {
        }

        static PostgresFixture startOrExplain(PostgresNotInstalledException missing) {
            boolean docker;
            try {
                docker = org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
            } catch (RuntimeException | LinkageError e) {
                docker = false;
            }
            if (!docker) {
                throw new IllegalStateException("Tests need PostgreSQL: " + missing.getMessage()
                        + " (Testcontainers would do too, but no Docker engine answers here)", missing);
            }
            return start();
        }

        @SuppressWarnings("resource") // stopped by the shutdown hook
        private static PostgresFixture start() {
            // the client address is the Docker gateway, not 127.0.0.1; local trust lets the image's init scripts run
            String hba = """
                    local all  all              trust
                    host  all  md5_u    all     md5
                    host  all  plain_u  all     password
                    host  all  all      all     scram-sha-256
                    """;
            var container = new org.testcontainers.postgresql.PostgreSQLContainer(CONTAINER_IMAGE)
                    .withUsername(SUPERUSER.name())
                    .withPassword(SUPERUSER.password())
                    .withDatabaseName("postgres")
                    .withCopyToContainer(org.testcontainers.images.builder.Transferable.of(hba),
                            "/etc/pgferry_hba.conf")
                    .withCommand("postgres", "-c", "hba_file=/etc/pgferry_hba.conf", "-c", "max_connections=600",
                            "-c", "fsync=off");
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "pgferry-test-postgres-stop"));
            try {
                Path usersFile = Files.createTempDirectory("pgferry-test-users").resolve("userlist.txt");
                PostgresFixture fixture = new PostgresFixture(container.getHost(),
                        container.getMappedPort(5432), usersFile, null);
                applyRoles(fixture);
                UserlistFile.write(usersFile, fixture.users());
                return fixture;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot set up roles in the PostgreSQL container", e);
            }
        }

        private static void applyRoles(PostgresFixture fixture) throws SQLException {
            try (Connection c = fixture.connect(SUPERUSER, "postgres"); var st = c.createStatement()) {
                for (String sql : DevRoles.rolesSql()) {
                    st.execute(sql);
                }
                try (var rs = st.executeQuery(DevRoles.benchMissingSql())) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        st.execute(DevRoles.createBenchSql());
                    }
                }
                st.execute(DevRoles.schemaGrantSql());
            }
            try (Connection c = fixture.connect(SUPERUSER, DevRoles.BENCH_DATABASE); var st = c.createStatement()) {
                st.execute(DevRoles.schemaGrantSql());
            }
        }
    }
}
