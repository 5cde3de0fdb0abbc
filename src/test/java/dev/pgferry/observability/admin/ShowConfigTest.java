package dev.pgferry.observability.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** SHOW CONFIG prints durations in the syntax they are configured with. */
class ShowConfigTest {
    @Test
    void durationsReadAsConfigured() {
        assertThat(ShowConfig.duration(Duration.ofSeconds(2))).isEqualTo("2s");
        assertThat(ShowConfig.duration(Duration.ofMinutes(10))).isEqualTo("600s");
        assertThat(ShowConfig.duration(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(ShowConfig.duration(Duration.ZERO)).isEqualTo("0s");
    }
}
