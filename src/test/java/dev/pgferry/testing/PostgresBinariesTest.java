package dev.pgferry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.devservice.PostgresBinaries;
import dev.pgferry.devservice.PostgresNotInstalledException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PostgresBinariesTest {

    @Test
    void theInstallHintNamesTheCommandForEachPlatform() {
        assertThat(PostgresBinaries.installCommand())
                .contains("apt-get install -y postgresql")
                .contains("brew install postgresql");
    }

    @Test
    void locatesADirectoryWithTheServerProgramsOrSaysWhatToInstall() {
        Path bin;
        try {
            bin = PostgresBinaries.locate();
        } catch (PostgresNotInstalledException e) {
            assertThat(e.getMessage()).contains("apt-get install -y postgresql").contains("brew install postgresql");
            return;
        }
        for (String program : new String[] {"initdb", "pg_ctl", "postgres"}) {
            assertThat(Files.isExecutable(bin.resolve(program))).as(program).isTrue();
        }
    }
}
