package dev.pgferry.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a real client program (psql, pgbench) against pgferry or PostgreSQL, with its password in PGPASSWORD. */
public final class ClientProgram {
    private ClientProgram() {}

    public record Result(int exitCode, String stdout, String stderr) {}

    /** Runs {@code command} with PGPASSWORD and {@code env}, stdin empty; fails after {@code timeoutSeconds}. */
    public static Result run(List<String> command, String password, Map<String, String> env, int timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command));
        pb.environment().put("PGPASSWORD", password);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.environment().remove("PGSERVICE");
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Path outFile = Files.createTempFile("pgferry-client", ".out");
        Path errFile = Files.createTempFile("pgferry-client", ".err");
        try {
            pb.redirectOutput(outFile.toFile());
            pb.redirectError(errFile.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not finish within " + timeoutSeconds + " s; stderr: "
                        + Files.readString(errFile, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(outFile, StandardCharsets.UTF_8),
                    Files.readString(errFile, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(outFile);
            Files.deleteIfExists(errFile);
        }
    }
}
