package dev.pgferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.pgbouncer.IniException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Which failed starts get one line instead of a stack trace. */
class StartupFailureTest {

    @Test
    void aRefusedPgBouncerConfigurationIsOneLineWithFileAndLine() {
        Throwable failure = new RuntimeException("Failed to start quarkus", new IllegalStateException("config",
                new IniException("pool_mode = statement cannot be honoured", Path.of("/etc/pgbouncer/pgbouncer.ini"), 9)));
        assertThat(StartupFailure.describe(failure)).isEqualTo("pgferry cannot start from pgferry.pgbouncer-ini:"
                + " pool_mode = statement cannot be honoured (/etc/pgbouncer/pgbouncer.ini:9)");
    }

    @Test
    void anythingElseIsLoggedWhole() {
        assertThat(StartupFailure.describe(new RuntimeException("Failed to start quarkus",
                new NullPointerException()))).isNull();
    }
}
