package dev.pgferry.differential;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A driver of another language (psycopg 3, node-postgres) in a process of its own that runs a small script from
 * {@code src/test/resources/differential}: one JSON command a line in ({@code open}, {@code run} an op,
 * {@code probe}, {@code status}, {@code close}, each for a client id), one JSON array of observations a line out.
 * One process per arm holds all its clients' connections.
 */
final class ScriptArm implements Arm {
    private final Process process;
    private final Writer in;
    private final BufferedReader out;
    private final String table;
    private int nextId;

    /** {@code command}: the interpreter and script; the connection settings and the table are appended. */
    ScriptArm(Path workDir, List<String> command, String host, int port, String table) {
        this.table = table;
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of(host, String.valueOf(port), Tables.USER, Tables.PASSWORD, Tables.DATABASE, table));
        try {
            process = new ProcessBuilder(cmd).directory(workDir.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Copies the script {@code name} from the test resources into {@code dir}; returns its path. */
    static Path script(Path dir, String name) throws IOException {
        Files.createDirectories(dir);
        Path target = dir.resolve(name);
        try (InputStream s = ScriptArm.class.getResourceAsStream("/differential/" + name)) {
            Files.copy(s, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    /** Runs {@code command} in {@code dir}; its output, or "exit N: output", or "missing: why". */
    static String probeCommand(Path dir, String... command) {
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timeout: " + text;
            }
            return p.exitValue() == 0 ? text : "exit " + p.exitValue() + ": " + text;
        } catch (IOException e) {
            return "missing: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public String table() {
        return table;
    }

    private List<String> ask(JsonObject command) {
        try {
            in.write(command.encode());
            in.write('\n');
            in.flush();
            String line = out.readLine();
            if (line == null) {
                return List.of("script ended");
            }
            List<String> answer = new ArrayList<>();
            for (Object o : new JsonArray(line)) {
                answer.add(o == null ? null : o.toString());
            }
            return answer;
        } catch (IOException e) {
            return List.of("script broken: " + e.getMessage());
        }
    }

    @Override
    public Client open(Map<String, String> startup) {
        int id = nextId++;
        List<String> login = ask(new JsonObject().put("cmd", "open").put("id", id)
                .put("startup", new JsonObject(new java.util.TreeMap<String, Object>(startup))));
        return new Client() {
            @Override
            public List<String> login() {
                return login;
            }

            @Override
            public List<String> run(Op op) {
                return ask(new JsonObject().put("cmd", "run").put("id", id).put("op", op.toJson()));
            }

            @Override
            public List<String> probe(List<Param> params) {
                return ask(new JsonObject().put("cmd", "probe").put("id", id).put("sql", Arm.probeSql(params)));
            }

            @Override
            public char transactionStatus() {
                List<String> s = ask(new JsonObject().put("cmd", "status").put("id", id));
                return s.size() == 1 && s.get(0).length() == 1 ? s.get(0).charAt(0) : '?';
            }

            @Override
            public void close() {
                ask(new JsonObject().put("cmd", "close").put("id", id));
            }
        };
    }

    @Override
    public void close() {
        try {
            in.close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
