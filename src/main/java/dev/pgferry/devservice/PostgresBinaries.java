package dev.pgferry.devservice;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** Finds the directory holding {@code initdb}, {@code pg_ctl} and {@code postgres}. */
public final class PostgresBinaries {

    private static final List<String> SERVER_PROGRAMS = List.of("initdb", "pg_ctl", "postgres");
    private static final Path DEBIAN_VERSIONS = Path.of("/usr/lib/postgresql");

    private PostgresBinaries() {
    }

    /**
     * The first of: {@code pg_config --bindir} if it holds the server programs (on Debian the {@code pg_config}
     * on PATH belongs to the client package, so it often does not); the real directory of {@code initdb} on
     * PATH; the highest {@code /usr/lib/postgresql/<version>/bin}.
     *
     * @throws PostgresNotInstalledException saying what to install when none holds them
     */
    public static Path locate() {
        return fromPgConfig()
                .or(PostgresBinaries::fromPath)
                .or(PostgresBinaries::fromDebianLayout)
                .orElseThrow(() -> new PostgresNotInstalledException(
                        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: looked at `pg_config --bindir`, "
                                + "initdb on PATH and /usr/lib/postgresql/*/bin. Install them: " + installCommand()));
    }

    /** The command that installs the server binaries, for this operating system first. */
    public static String installCommand() {
        String debian = "`apt-get install -y postgresql` (Debian/Ubuntu, as root)";
        String mac = "`brew install postgresql` (macOS)";
        boolean macOs = System.getProperty("os.name", "").toLowerCase().contains("mac");
        return macOs ? mac + " or " + debian : debian + " or " + mac;
    }

    /** True if {@code dir} holds every server program. */
    static boolean holdsServer(Path dir) {
        return SERVER_PROGRAMS.stream().allMatch(name -> Files.isExecutable(dir.resolve(name)));
    }

    private static Optional<Path> fromPgConfig() {
        return onPath("pg_config").flatMap(pgConfig -> {
            try {
                ExternalCommand.Result result = ExternalCommand.run(List.of(pgConfig.toString(), "--bindir"),
                        Map.of(), null, Duration.ofSeconds(10));
                return result.succeeded() ? Optional.of(Path.of(result.stdout().strip())) : Optional.empty();
            } catch (LocalPostgresException e) {
                return Optional.empty();
            }
        }).filter(PostgresBinaries::holdsServer);
    }

    private static Optional<Path> fromPath() {
        // resolve symlinks: /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb has psql beside it
        return onPath("initdb").map(PostgresBinaries::realParent).filter(PostgresBinaries::holdsServer);
    }

    private static Optional<Path> fromDebianLayout() {
        if (!Files.isDirectory(DEBIAN_VERSIONS)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(DEBIAN_VERSIONS)) {
            return versions.map(version -> version.resolve("bin"))
                    .filter(PostgresBinaries::holdsServer)
                    .max(Comparator.comparing(PostgresBinaries::versionOf));
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        return Stream.of(path.split(java.io.File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry, program))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private static Path realParent(Path program) {
        try {
            return program.toRealPath().getParent();
        } catch (java.io.IOException e) {
            return program.getParent();
        }
    }

    /** {@code /usr/lib/postgresql/15/bin} → 15.0; directories that are no version sort lowest. */
    private static double versionOf(Path binDir) {
        try {
            return Double.parseDouble(binDir.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
