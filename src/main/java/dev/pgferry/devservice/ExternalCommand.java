package dev.pgferry.devservice;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs one program to completion. Output goes to temporary files, not pipes: {@code pg_ctl start} leaves a
 * postmaster behind, and a daemon that inherited a pipe would keep a reader waiting for EOF forever.
 */
final class ExternalCommand {

    private static final Logger LOG = Logger.getLogger(ExternalCommand.class);

    /** What a finished program left behind. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {

        boolean succeeded() {
            return exitCode == 0;
        }

        /** This result if the program succeeded, else a {@link LocalPostgresException} with its stderr. */
        Result orThrow() {
            if (!succeeded()) {
                throw new LocalPostgresException(describe());
            }
            return this;
        }

        String describe() {
            String output = (stderr.isBlank() ? stdout : stderr).strip();
            return "`" + String.join(" ", command) + "` exited with " + exitCode
                    + (output.isEmpty() ? "" : ": " + output);
        }
    }

    private ExternalCommand() {
    }

    /**
     * Runs {@code command} in {@code workDir} with the environment of this process minus every {@code PG*}
     * variable (a stray {@code PGDATA}, {@code PGSSLMODE} or {@code PGSERVICE} would change what the tools do)
     * plus {@code env}.
     */
    static Result run(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
        LOG.debugf("running %s", command);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("pgferry-cmd", ".out");
            err = Files.createTempFile("pgferry-cmd", ".err");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (workDir != null) {
                builder.directory(workDir.toFile());
            }
            builder.environment().keySet().removeIf(name -> name.startsWith("PG"));
            builder.environment().putAll(env);
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new LocalPostgresException("`" + String.join(" ", command) + "` did not finish within "
                        + timeout.toSeconds() + "s");
            }
            return new Result(command, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new LocalPostgresException("cannot run `" + String.join(" ", command) + "`: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalPostgresException("interrupted while running `" + String.join(" ", command) + "`", e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }
}
