package dev.pgferry.devservice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * A throwaway PostgreSQL cluster in a directory of its own, listening on 127.0.0.1 only, with one login role per
 * password method ({@link DevRoles#USERS}) and a {@code bench} database. Dev mode and the test fixture share it.
 *
 * <p>Layout of {@code dir}: {@code data/} (PGDATA), {@code postgres.log}, and the Unix socket. When this JVM
 * runs as root the directory is handed to the OS user {@code postgres} and every server program runs as that
 * user, since PostgreSQL refuses to run as root.
 */
public final class LocalPostgres {

    private static final Logger LOG = Logger.getLogger(LocalPostgres.class);

    /** The superuser's name. */
    public static final String SUPERUSER = "postgres";

    private static final String HOST = "127.0.0.1";
    private static final String SERVER_OS_USER = "postgres";
    private static final Duration SERVER_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(60);
    /** sun_path holds 108 bytes; PostgreSQL refuses a longer socket path and will not start. */
    private static final int MAX_SOCKET_PATH = 100;
    /**
     * {@code runuser} resets the soft descriptor limit to 1024, too few for hundreds of connections: raise it
     * again (to 20000, or to the hard limit where that is lower) inside the command it runs.
     */
    private static final String RAISE_FD_LIMIT_AND_EXEC =
            "ulimit -n 20000 2>/dev/null || ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$0\" \"$@\"";

    private final Path binDir;
    private final Path dir;
    private final int port;
    private final String superPassword;
    private final boolean root;

    private LocalPostgres(Path binDir, Path dir, int port, String superPassword) {
        this.binDir = binDir;
        this.dir = dir;
        this.port = port;
        this.superPassword = superPassword;
        this.root = "root".equals(System.getProperty("user.name"));
    }

    /**
     * Starts a cluster in {@code dir} on 127.0.0.1:{@code port}, or reuses it: a cluster already running there
     * that answers is kept, a stopped one is started without a new initdb. Either way the roles, passwords and
     * the {@code bench} database are (re)applied.
     *
     * @throws PostgresNotInstalledException when no server binaries exist, saying what to install
     * @throws LocalPostgresException when initdb, start or setup fails, with the program's own message
     */
    public static LocalPostgres start(Path dir, int port, String superPassword) {
        LocalPostgres pg = new LocalPostgres(PostgresBinaries.locate(), dir.toAbsolutePath().normalize(), port,
                superPassword);
        pg.startOrReuse();
        return pg;
    }

    /**
     * A handle on the cluster that runs, or ran, in {@code dir} on {@code port}, touching nothing: for a standby, which
     * {@link #start} would try to write roles to, and for a process that did not start the cluster.
     */
    public static LocalPostgres attach(Path dir, int port, String superPassword) {
        return new LocalPostgres(PostgresBinaries.locate(), dir.toAbsolutePath().normalize(), port, superPassword);
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    /** The directory holding {@code initdb}, {@code pg_ctl}, {@code postgres} (and usually psql, pgbench). */
    public Path binDir() {
        return binDir;
    }

    /** The cluster's directory, as given to {@link #start}, made absolute. */
    public Path directory() {
        return dir;
    }

    public Path dataDirectory() {
        return dir.resolve("data");
    }

    /** The server log; read it when a test fails in a way only the server can explain. */
    public Path logFile() {
        return dir.resolve("postgres.log");
    }

    /** The superuser's password, as given to {@link #start}. */
    public String superPassword() {
        return superPassword;
    }

    /** Runs {@code sql} as the superuser in database {@code postgres}; returns psql's unaligned output. */
    public String psql(String sql) {
        return psql("postgres", sql);
    }

    /** Runs {@code sql} as the superuser in {@code database}; returns psql's unaligned, tuples-only output. */
    public String psql(String database, String sql) {
        return ExternalCommand.run(psqlCommand(database, sql), clientEnv(), null, QUERY_TIMEOUT).orThrow().stdout();
    }

    /** True if the postmaster of this directory is running ({@code pg_ctl status}). */
    public boolean isRunning() {
        return pgCtl(List.of("status")).succeeded();
    }

    /** Stops the cluster with {@code pg_ctl stop -m fast} (sessions are cut, nothing is lost); no-op if stopped. */
    public void stop() {
        if (isRunning()) {
            pgCtl(List.of("-m", "fast", "-w", "-t", timeoutSeconds(), "stop")).orThrow();
            LOG.debugf("PostgreSQL in %s stopped", dir);
        }
    }

    /** Stops the cluster like a crash ({@code -m immediate}): no shutdown checkpoint, recovery on next start. */
    public void crash() {
        if (isRunning()) {
            pgCtl(List.of("-m", "immediate", "-w", "-t", timeoutSeconds(), "stop")).orThrow();
        }
    }

    /** Starts the cluster again after {@link #stop()} or {@link #crash()}, and waits until it answers. */
    public void startAgain() {
        if (!isRunning()) {
            launch();
        }
        awaitReady();
    }

    /** {@code pg_ctl restart -m fast}: every session is cut, the cluster comes back on the same port. */
    public void restart() {
        pgCtl(List.of("-l", logFile().toString(), "-m", "fast", "-w", "-t", timeoutSeconds(), "restart")).orThrow();
        awaitReady();
    }

    /** Ends a standby's recovery ({@code pg_ctl promote -w}): it is a primary, open for writes, when this returns. */
    public void promote() {
        pgCtl(List.of("-w", "-t", timeoutSeconds(), "promote")).orThrow();
        LOG.infof("PostgreSQL in %s promoted", dir);
    }

    /**
     * Stops the cluster until the returned outage is closed: {@code try (var outage = pg.stopped()) { ... }}
     * runs the block against a dead backend and brings it back afterwards.
     */
    public Outage stopped() {
        stop();
        return this::startAgain;
    }

    /** Cuts every session of {@code user} ({@code pg_terminate_backend}); returns how many there were. */
    public int terminateSessions(String user) {
        String count = psql("select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = "
                + DevRoles.literal(user) + " and pid <> pg_backend_pid()");
        return Integer.parseInt(count.strip());
    }

    /** Creates and fills the pgbench tables in {@code bench} ({@code pgbench -i -q -s scale}), usable by all. */
    public void initPgbench(int scale) {
        List<String> command = List.of(tool("pgbench").toString(), "-i", "-q", "-s", Integer.toString(scale),
                "-h", HOST, "-p", Integer.toString(port), "-U", SUPERUSER, DevRoles.BENCH_DATABASE);
        ExternalCommand.run(command, clientEnv(), null, Duration.ofMinutes(10)).orThrow();
        psql(DevRoles.BENCH_DATABASE, DevRoles.benchTablesGrantSql());
    }

    /**
     * Starts a streaming standby of this cluster in {@code standbyDir} on 127.0.0.1:{@code standbyPort}: a
     * {@code pg_basebackup -R} copy (so it follows this cluster as primary) started and waited for until it answers
     * and reports {@code pg_is_in_recovery()}. The copy keeps this cluster's roles and hba.
     *
     * @throws LocalPostgresException when the backup or the start fails, with the program's own message
     */
    public LocalPostgres startStandby(Path standbyDir, int standbyPort) {
        LocalPostgres standby = new LocalPostgres(binDir, standbyDir.toAbsolutePath().normalize(), standbyPort,
                superPassword);
        try {
            deleteRecursively(standby.dir);
            Files.createDirectories(standby.dir);
            handToServerUser(standby.dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + standby.dir, e);
        }
        // --checkpoint=fast: a spread checkpoint makes pg_basebackup wait up to checkpoint_timeout × completion_target
        // (4.5 min by default) on an idle server before it copies anything
        ExternalCommand.run(asServerUser(List.of(tool("pg_basebackup").toString(), "-h", HOST, "-p",
                        Integer.toString(port), "-U", SUPERUSER, "-D", standby.dataDirectory().toString(), "-R",
                        "-X", "stream", "--checkpoint=fast", "--no-sync")), clientEnv(), standby.dir, SERVER_TIMEOUT)
                .orThrow();
        standby.launch();
        standby.awaitReady();
        if (!standby.psql("select pg_is_in_recovery()").strip().equals("t")) {
            throw new LocalPostgresException("the copy in " + standby.dir + " is not in recovery");
        }
        LOG.infof("PostgreSQL standby of %s:%d started in %s on %s:%d", HOST, port, standby.dir, HOST, standbyPort);
        return standby;
    }

    /** A stopped cluster that starts again on {@link #close()}. */
    @FunctionalInterface
    public interface Outage extends AutoCloseable {
        @Override
        void close();
    }

    private void startOrReuse() {
        Path data = dataDirectory();
        if (Files.isRegularFile(data.resolve("PG_VERSION"))) {
            if (isRunning()) {
                if (!answers()) {
                    throw new LocalPostgresException("a PostgreSQL cluster runs in " + data + " but does not answer on "
                            + HOST + ":" + port + " with the configured superuser password; stop it (`pg_ctl -D "
                            + data + " stop`) or delete " + dir);
                }
                LOG.infof("Reusing PostgreSQL running in %s on %s:%d", dir, HOST, port);
            } else {
                writeHba();
                launch();
                awaitReady();
                LOG.infof("PostgreSQL restarted from %s on %s:%d", dir, HOST, port);
            }
        } else {
            initdb();
            writeHba();
            launch();
            awaitReady();
            LOG.infof("PostgreSQL initialised in %s, listening on %s:%d", dir, HOST, port);
        }
        applyRoles();
    }

    private void initdb() {
        Path data = dataDirectory();
        Path pwfile = dir.resolve("superuser.pw");
        try {
            deleteRecursively(data);
            Files.createDirectories(dir);
            Files.writeString(pwfile, superPassword + "\n");
            handToServerUser(dir);
            ExternalCommand.run(asServerUser(List.of(tool("initdb").toString(), "-D", data.toString(),
                            "-A", "scram-sha-256", "-U", SUPERUSER, "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C",
                            "--no-sync")), Map.of(), dir, SERVER_TIMEOUT).orThrow();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir, e);
        } finally {
            try {
                Files.deleteIfExists(pwfile);
            } catch (IOException ignored) {
                // initdb has read it; a leftover only holds a throwaway password
            }
        }
    }

    private void writeHba() {
        // the first matching line wins: md5_u and plain_u get their own method, everybody else SCRAM
        String hba = """
                # written by pgferry's LocalPostgres: one role per password method
                host  all  md5_u    127.0.0.1/32  md5
                host  all  md5_u    ::1/128       md5
                host  all  plain_u  127.0.0.1/32  password
                host  all  plain_u  ::1/128       password
                host  all  all      127.0.0.1/32  scram-sha-256
                host  all  all      ::1/128       scram-sha-256
                host  replication  postgres  127.0.0.1/32  scram-sha-256
                local all  md5_u                  md5
                local all  plain_u                password
                local all  all                    scram-sha-256
                """;
        Path file = dataDirectory().resolve("pg_hba.conf");
        try {
            Files.writeString(file, hba);
            handToServerUser(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private void launch() {
        String options = "-p " + port
                + " -c listen_addresses=" + HOST
                + " -c max_connections=600"
                + " -c unix_socket_directories='" + socketDirectory() + "'"
                + " -c fsync=off"
                + " -c shared_buffers=128MB";
        ExternalCommand.Result result = pgCtl(List.of("-l", logFile().toString(), "-o", options, "-w",
                "-t", timeoutSeconds(), "start"));
        if (!result.succeeded()) {
            throw new LocalPostgresException(result.describe() + "\n--- end of " + logFile() + " ---\n" + logTail());
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + SERVER_TIMEOUT.toNanos();
        while (!answers()) {
            if (System.nanoTime() > deadline) {
                throw new LocalPostgresException("PostgreSQL in " + dir + " did not answer on " + HOST + ":" + port
                        + " within " + SERVER_TIMEOUT.toSeconds() + "s\n" + logTail());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LocalPostgresException("interrupted while waiting for PostgreSQL", e);
            }
        }
    }

    private boolean answers() {
        ExternalCommand.Result result = ExternalCommand.run(psqlCommand("postgres", "select 1"), clientEnv(), null,
                QUERY_TIMEOUT);
        return result.succeeded() && result.stdout().strip().equals("1");
    }

    private void applyRoles() {
        for (String sql : DevRoles.rolesSql()) {
            psql(sql);
        }
        if (psql(DevRoles.benchMissingSql()).strip().equals("t")) {
            psql(DevRoles.createBenchSql());
        }
        psql("postgres", DevRoles.schemaGrantSql());
        psql(DevRoles.BENCH_DATABASE, DevRoles.schemaGrantSql());
    }

    private ExternalCommand.Result pgCtl(List<String> args) {
        List<String> command = new ArrayList<>(List.of(tool("pg_ctl").toString(), "-D", dataDirectory().toString()));
        command.addAll(args);
        return ExternalCommand.run(asServerUser(command), Map.of(), dir, SERVER_TIMEOUT);
    }

    private List<String> psqlCommand(String database, String sql) {
        return List.of(tool("psql").toString(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                "-h", HOST, "-p", Integer.toString(port), "-U", SUPERUSER, "-d", database, "-c", sql);
    }

    private Map<String, String> clientEnv() {
        return Map.of("PGPASSWORD", superPassword, "PGCONNECT_TIMEOUT", "5", "PGAPPNAME", "pgferry-local-postgres");
    }

    /** A client program from {@link #binDir()}, else from PATH (some layouts keep psql apart from the server). */
    private Path tool(String name) {
        Path beside = binDir.resolve(name);
        return Files.isExecutable(beside) ? beside : Path.of(name);
    }

    private List<String> asServerUser(List<String> command) {
        if (!root) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", SERVER_OS_USER, "--", "sh", "-c",
                RAISE_FD_LIMIT_AND_EXEC));
        wrapped.addAll(command);
        return wrapped;
    }

    private void handToServerUser(Path path) {
        if (!root) {
            return;
        }
        ExternalCommand.run(List.of("chown", "-R", SERVER_OS_USER + ":", path.toString()), Map.of(), null,
                SERVER_TIMEOUT).orThrow();
        if (Files.isDirectory(path)) {
            ExternalCommand.Result access = ExternalCommand.run(
                    List.of("runuser", "-u", SERVER_OS_USER, "--", "test", "-w", path.toString()), Map.of(), null,
                    SERVER_TIMEOUT);
            if (!access.succeeded()) {
                throw new LocalPostgresException("the OS user " + SERVER_OS_USER + " cannot reach " + path
                        + " (a parent directory is closed to it); choose a directory under /tmp");
            }
        }
    }

    /**
     * Where the server's Unix-domain socket is: {@code dir}, unless the socket path would be too long for the
     * kernel; then a short one under /tmp.
     */
    public Path socketDirectory() {
        if ((dir + "/.s.PGSQL." + port).length() <= MAX_SOCKET_PATH) {
            return dir;
        }
        Path shortDir = Path.of("/tmp", "pgferry-sock-" + port);
        try {
            Files.createDirectories(shortDir);
            handToServerUser(shortDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create socket directory " + shortDir, e);
        }
        return shortDir;
    }

    private String timeoutSeconds() {
        return Long.toString(SERVER_TIMEOUT.toSeconds());
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile());
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no server log at " + logFile() + ")";
        }
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (var walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
