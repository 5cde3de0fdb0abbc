package dev.pgferry.prepared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * node-postgres ({@code pg} from the npm registry) named queries — prepared once per connection and then
 * executed by name — over a pool of 2 backends. Skipped, saying why, where Node.js or npm is missing.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(PreparedStatementsTest.TinyPool.class)
class NodePostgresNamedQueriesTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String SCRIPT = """
            const { Client } = require('pg');
            async function run(id) {
              const c = new Client({ host: '127.0.0.1', port: PORT, user: 'scram_u', password: 'scram_pw', database: 'postgres' });
              await c.connect();
              let sum = 0;
              for (let i = 0; i < 200; i++) {
                const r = await c.query({ name: 'plus-one', text: 'select $1::int + 1 as n', values: [i] });
                const t = await c.query({ name: 'times-' + (id % 2), text: 'select $1::int * ' + (id % 2 + 2) + ' as n', values: [i] });
                if (r.rows[0].n !== i + 1 || t.rows[0].n !== i * (id % 2 + 2)) throw new Error('wrong result at ' + i);
                sum++;
              }
              await c.end();
              return sum;
            }
            Promise.all([0, 1, 2, 3, 4, 5].map(run))
              .then(n => { console.log('ok ' + n.reduce((a, b) => a + b, 0)); })
              .catch(e => { console.log('failed ' + e.message); process.exit(1); });
            """;

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timeout: " + out;
        }
        return p.exitValue() == 0 ? out : "exit " + p.exitValue() + ": " + out;
    }

    @Test
    void namedQueriesOfSixNodeClientsOnTwoBackends() throws Exception {
        Path dir = Path.of("target", "node-pg").toAbsolutePath();
        Files.createDirectories(dir);
        String node;
        try {
            node = run(dir, "node", "--version");
        } catch (IOException e) {
            node = "missing";
        }
        assumeTrue(node.startsWith("v"), "Node.js is not installed here: node-postgres test skipped");
        if (!Files.isDirectory(dir.resolve("node_modules/pg"))) {
            String install = run(dir, "npm", "install", "--no-audit", "--no-fund", "--silent", "pg@8");
            assumeTrue(Files.isDirectory(dir.resolve("node_modules/pg")),
                    "npm could not install pg (no registry access?): node-postgres test skipped: " + install);
        }
        String script = SCRIPT.replace("port: PORT", "port: " + port);
        Files.writeString(dir.resolve("named.js"), script);
        String out = run(dir, "node", "named.js");
        assertThat(out).contains("ok 1200");
    }
}
