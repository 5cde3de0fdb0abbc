package dev.pgferry.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.PgferryConfig;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SHOW CONFIG prints durations in the syntax they are configured with, and lists the pool's limits. */
class ShowConfigTest {
    @Test
    void durationsReadAsConfigured() {
        assertThat(ShowConfig.duration(Duration.ofSeconds(2))).isEqualTo("2s");
        assertThat(ShowConfig.duration(Duration.ofMinutes(10))).isEqualTo("600s");
        assertThat(ShowConfig.duration(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(ShowConfig.duration(Duration.ZERO)).isEqualTo("0s");
    }

    @Test
    void theReserveIsListedWithPgBouncersDefaults() {
        assertThat(keys(Map.of())).containsEntry("pgferry.pool.reserve-size", "0")
                .containsEntry("pgferry.pool.reserve-timeout", "5s");
        assertThat(keys(Map.of("pgferry.pool.reserve-size", "3", "pgferry.pool.reserve-timeout", "2500ms")))
                .containsEntry("pgferry.pool.reserve-size", "3")
                .containsEntry("pgferry.pool.reserve-timeout", "2500ms");
    }

    @Test
    void maxUserConnectionsIsListedUnlimitedByDefault() {
        assertThat(keys(Map.of())).containsEntry("pgferry.pool.max-user-connections", "0");
        assertThat(keys(Map.of("pgferry.pool.max-user-connections", "7")))
                .containsEntry("pgferry.pool.max-user-connections", "7");
    }

    @Test
    void theClusterBudgetAndPeersAreListed() {
        assertThat(keys(Map.of())).containsEntry("pgferry.pool.cluster-max-db-connections", "0")
                .containsEntry("pgferry.peer-id", "").containsEntry("pgferry.peers-dns", "")
                .containsEntry("pgferry.peers-dns-server", "")
                .containsEntry("pgferry.peer-probe-interval", "2s");
        assertThat(keys(Map.of("pgferry.pool.cluster-max-db-connections", "12", "pgferry.peer-id", "2",
                "pgferry.peers.\"3\".host", "10.0.0.3")))
                .containsEntry("pgferry.pool.cluster-max-db-connections", "12").containsEntry("pgferry.peer-id", "2")
                .containsEntry("pgferry.peers.\"3\".host", "10.0.0.3").containsEntry("pgferry.peers.\"3\".port", "6432");
    }

    @Test
    void theListenFanOutIsListed() {
        assertThat(keys(Map.of())).containsEntry("pgferry.pool.listen", "fanout")
                .containsEntry("pgferry.notify.max-queued", "10000")
                .containsEntry("pgferry.notify.listener-idle-timeout", "5s");
        assertThat(keys(Map.of("pgferry.pool.listen", "reject", "pgferry.notify.max-queued", "50",
                "pgferry.notify.listener-idle-timeout", "250ms")))
                .containsEntry("pgferry.pool.listen", "reject").containsEntry("pgferry.notify.max-queued", "50")
                .containsEntry("pgferry.notify.listener-idle-timeout", "250ms");
    }

    /** SHOW CONFIG's key to value for the defaults overridden by {@code properties}. */
    static Map<String, String> keys(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(PgferryConfig.class)
                .withConverter(Duration.class, 100, new DurationConverter()) // Quarkus's: "5s", not only "PT5S"
                .withDefaultValues(properties).build();
        Map<String, String> keys = new HashMap<>();
        for (List<String> row : ShowConfig.rows(config.getConfigMapping(PgferryConfig.class))) {
            keys.put(row.get(0), row.get(1));
        }
        return keys;
    }
}
