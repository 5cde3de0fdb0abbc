package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** {@code pgbench -S -c 10 -T 5} through pgferry: every transaction succeeds. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class PgbenchThroughPgferryTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private static long number(String output, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(output);
        assertThat(m.find()).as("pgbench output has /%s/:%n%s", regex, output).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void selectOnlyWithTenClientsHasNoFailedTransactions() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        assumeTrue(pg.isLocal(), "pgbench -i needs the local cluster's tools");
        pg.local().initPgbench(1);
        ClientProgram.Result r = ClientProgram.run(List.of("pgbench", "-S", "-c", "10", "-j", "2", "-T", "5", "-h", "127.0.0.1",
                "-p", Integer.toString(port), "-U", "postgres", "bench"), "secret", Map.of(), 120);
        String out = r.stdout();
        assertThat(r.exitCode()).as("pgbench exit; stderr: %s%nstdout: %s", r.stderr(), out).isZero();
        assertThat(number(out, "^number of clients: (\\d+)$")).isEqualTo(10);
        assertThat(number(out, "^number of failed transactions: (\\d+) ")).isZero();
        assertThat(number(out, "^number of transactions actually processed: (\\d+)")).isPositive();
        assertThat(out).contains("query mode: simple").doesNotContain("error");
        assertThat(r.stderr()).doesNotContain("error");
    }
}
