package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** Real clients pointed at pgferry: pgjdbc (through its Driver, not DriverManager) and psql. */
final class Clients {

    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

    private Clients() {}

    static Connection jdbc(int port, String user, String password, String database, Map<String, String> extra)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        extra.forEach(props::setProperty);
        Connection c = DRIVER.connect("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
        assertThat(c).as("pgjdbc accepted the URL").isNotNull();
        return c;
    }

    static Connection jdbc(int port, String user, String password, String database) throws SQLException {
        return jdbc(port, user, password, database, Map.of());
    }

    static String queryOne(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    /** pgferry still logs in and serves a pgjdbc client. */
    static void assertServesPgjdbc(int port) throws SQLException {
        try (Connection c = jdbc(port, "postgres", "secret", "postgres")) {
            assertThat(queryOne(c, "select 40 + 2")).isEqualTo("42");
        }
    }

    record Result(int exitCode, String stdout, String stderr) {}

    /** Runs a client program (psql, pgbench) with PGPASSWORD and extra environment; fails after {@code timeoutSeconds}. */
    static Result run(List<String> command, String password, Map<String, String> env, int timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command));
        pb.environment().put("PGPASSWORD", password);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.environment().remove("PGSERVICE");
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        java.nio.file.Path outFile = java.nio.file.Files.createTempFile("pgferry-client", ".out");
        java.nio.file.Path errFile = java.nio.file.Files.createTempFile("pgferry-client", ".err");
        try {
            pb.redirectOutput(outFile.toFile());
            pb.redirectError(errFile.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not finish within " + timeoutSeconds + " s; stderr: "
                        + java.nio.file.Files.readString(errFile, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(outFile, StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(errFile, StandardCharsets.UTF_8));
        } finally {
            java.nio.file.Files.deleteIfExists(outFile);
            java.nio.file.Files.deleteIfExists(errFile);
        }
    }

    /** {@code psql -X -w -At -c sql} against pgferry. */
    static Result psql(int port, String user, String password, String database, String sql, Map<String, String> env)
            throws IOException, InterruptedException {
        return run(List.of("/usr/bin/psql", "-X", "-w", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", user, "-d", database, "-c", sql), password, env, 60);
    }
}
