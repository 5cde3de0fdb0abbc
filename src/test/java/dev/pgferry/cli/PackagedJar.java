package dev.pgferry.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The packaged application, {@code target/quarkus-app/quarkus-run.jar}, run as an operator runs it: {@code java
 * -D… -jar quarkus-run.jar [args]} in a process of its own, its console (stdout and stderr) captured to a file. The
 * jar exists only after {@code package}: failsafe runs the {@code *IT} classes after it ({@code ./mvnw verify}); a
 * run without it skips with that hint.
 */
public final class PackagedJar {
    private PackagedJar() {}

    /** The jar, or a skipped test saying how to build it. */
    public static Path jar() {
        Path jar = Path.of(System.getProperty("pgferry.jar", "target/quarkus-app/quarkus-run.jar")).toAbsolutePath();
        assumeTrue(Files.isRegularFile(jar), "no packaged jar at " + jar + ": run ./mvnw verify (failsafe runs this"
                + " test after package)");
        return jar;
    }

    /** A port nothing listens on at the moment of asking (the test binds it or hands it to the jar at once). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What a finished run printed and returned. */
    record Outcome(int exitCode, List<String> lines) {
        List<String> matching(Predicate<String> p) {
            return lines.stream().filter(p).toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + String.join("\n", lines);
        }
    }

    /** A running jar; {@link #close()} stops it as SIGTERM would and waits. */
    public static final class Running implements AutoCloseable {
        public final Process process;
        final Path console;

        Running(Process process, Path console) {
            this.process = process;
            this.console = console;
        }

        public List<String> lines() {
            try {
                return Files.readAllLines(console, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Waits for a console line matching {@code p}; fails with the console so far when it does not come. */
        public String await(Predicate<String> p, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (String line : lines()) {
                    if (p.test(line)) {
                        return line;
                    }
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("expected line not printed; console:\n" + String.join("\n", lines()));
        }

        /** Waits for the process to end by itself. */
        Outcome finish(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("still running after " + timeout + "; console:\n" + String.join("\n", lines()));
            }
            return new Outcome(process.exitValue(), lines());
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Starts {@code java <jvmOptions> -jar quarkus-run.jar <args>}, standard input from {@code stdin}. */
    public static Running start(List<String> jvmOptions, List<String> args, String stdin) throws IOException {
        return start(jvmOptions, args, stdin, java.util.Map.of());
    }

    /** As {@link #start(List, List, String)}, with {@code env} added to the process's environment. */
    public static Running start(List<String> jvmOptions, List<String> args, String stdin,
            java.util.Map<String, String> env) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(args);
        Path console = Files.createTempFile("pgferry-jar", ".log");
        console.toFile().deleteOnExit();
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(console.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        return new Running(p, console);
    }

    /** Runs the jar to its end. */
    static Outcome run(List<String> jvmOptions, List<String> args, String stdin, Duration timeout)
            throws IOException, InterruptedException {
        return start(jvmOptions, args, stdin).finish(timeout);
    }

    /**
     * Options every run shares: a free HTTP port, no backend check noise, and the prod profile's console log (the jar
     * runs with the prod profile).
     */
    public static List<String> options(String... more) {
        List<String> o = new ArrayList<>();
        o.add("-Dquarkus.http.port=" + freePort());
        o.add("-Dpgferry.event-loops=1");
        o.addAll(List.of(more));
        return o;
    }
}
