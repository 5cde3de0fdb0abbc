package dev.pgferry.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a script with node-postgres ({@code pg} 8 from the npm registry, installed once into {@code target/node-pg}).
 * A test calling it is skipped, saying why, where Node.js is missing or npm cannot install {@code pg}.
 */
public final class NodePostgres {
    private static final Path DIR = Path.of("target", "node-pg").toAbsolutePath();

    private NodePostgres() {}

    /**
     * Writes {@code script} to {@code name} next to node_modules/pg, runs it with node and {@code args}, and returns
     * what it printed.
     */
    public static String run(String name, String script, String... args) throws IOException, InterruptedException {
        Files.createDirectories(DIR);
        String node;
        try {
            node = exec("node", "--version");
        } catch (IOException e) {
            node = "missing";
        }
        assumeTrue(node.startsWith("v"), "Node.js is not installed here: node-postgres test skipped");
        if (!Files.isDirectory(DIR.resolve("node_modules/pg"))) {
            String install = exec("npm", "install", "--no-audit", "--no-fund", "--silent", "pg@8");
            assumeTrue(Files.isDirectory(DIR.resolve("node_modules/pg")),
                    "npm could not install pg (no registry access?): node-postgres test skipped: " + install);
        }
        Files.writeString(DIR.resolve(name), script);
        List<String> command = new ArrayList<>(List.of("node", name));
        command.addAll(List.of(args));
        return exec(command.toArray(String[]::new));
    }

    /**
     * node-postgres's {@code client.end()} right after a {@code client.connect()} it does not await, as user scram_u,
     * against PostgreSQL on {@code postgresPort} and then pgferry on {@code pgferryPort} (with {@code ssl}: TLS, any
     * certificate accepted). Prints one line each, {@code "postgres: …"} and {@code "pgferry: …"}, naming what the
     * application saw within a second: "ended", "connected", "connect failed: …", "error event: …".
     */
    public static String endBeforeConnected(int postgresPort, int pgferryPort, boolean ssl)
            throws IOException, InterruptedException {
        return run("early-end.js", EARLY_END_SCRIPT.replace("TARGETS", "[['postgres', " + postgresPort + "], ['pgferry', "
                + pgferryPort + "]]").replace("SSL", ssl ? "{ rejectUnauthorized: false }" : "false"));
    }

    private static final String EARLY_END_SCRIPT = """
            const { Client } = require('pg');
            function earlyEnd(port) {
              return new Promise(resolve => {
                const c = new Client({ host: '127.0.0.1', port, user: 'scram_u', password: 'scram_pw',
                  database: 'postgres', ssl: SSL });
                const seen = [];
                c.on('error', e => seen.push('error event: ' + e.message));
                c.connect().then(() => seen.push('connected'), e => seen.push('connect failed: ' + e.message));
                c.end().then(() => seen.push('ended'), e => seen.push('end failed: ' + e.message));
                setTimeout(() => resolve(seen.join('; ')), 1000);
              });
            }
            (async () => {
              for (const [name, port] of TARGETS) console.log(name + ': ' + await earlyEnd(port));
              process.exit(0);
            })();
            """;

    private static String exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timeout: " + out;
        }
        return p.exitValue() == 0 ? out : "exit " + p.exitValue() + ": " + out;
    }
}
