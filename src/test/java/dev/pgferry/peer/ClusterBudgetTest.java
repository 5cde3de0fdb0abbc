package dev.pgferry.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.BackendLimit;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A database's limit under the cluster budget, and where a replica's peer id comes from. */
class ClusterBudgetTest {

    static PgferryConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder().withMapping(PgferryConfig.class)
                .withConverter(Duration.class, 100, new DurationConverter()).withDefaultValues(properties).build()
                .getConfigMapping(PgferryConfig.class);
    }

    @Test
    void aNewReplicaTakesNothingThenItsShareWithinItsOwnMaximum() {
        PgferryConfig c = config(Map.of("pgferry.pool.cluster-max-db-connections", "12",
                "pgferry.databases.small.cluster-max-db-connections", "2"));
        ClusterBudget budget = new ClusterBudget(() -> c);
        BackendLimit app = new BackendLimit(5);
        BackendLimit small = new BackendLimit(0);
        budget.track("app", app);
        budget.track("small", small);
        assertThat(app.share()).isEqualTo(BackendLimit.SHARE_NOT_YET);
        assertThat(app.effectiveMax()).isEqualTo(BackendLimit.SHARE_NOT_YET);
        budget.alive(3);
        assertThat(app.share()).isEqualTo(4);
        assertThat(app.effectiveMax()).as("its own max-db-connections is lower").isEqualTo(4);
        assertThat(small.share()).isEqualTo(1);
        budget.alive(1);
        assertThat(app.effectiveMax()).isEqualTo(5);
        assertThat(small.effectiveMax()).isEqualTo(2);
        assertThat(budget.shares()).containsEntry("app", 12).containsEntry("small", 2);
    }

    @Test
    void withoutABudgetNothingChanges() {
        ClusterBudget budget = new ClusterBudget(() -> config(Map.of()));
        BackendLimit app = new BackendLimit(7);
        budget.track("app", app);
        assertThat(app.share()).isZero();
        assertThat(app.effectiveMax()).isEqualTo(7);
        assertThat(app.overShare()).isFalse();
    }

    @Test
    void thePeerIdComesFromTheSettingOrTheStatefulSetOrdinal() {
        assertThat(PeerIdentity.of(config(Map.of()), () -> "x")).isZero();
        assertThat(PeerIdentity.of(config(Map.of("pgferry.peer-id", "7")), () -> "pgferry-0")).isEqualTo(7);
        assertThat(PeerIdentity.of(config(Map.of("pgferry.peers-dns", "pgferry-peers:6432")), () -> "pgferry-0"))
                .isEqualTo(1);
        assertThat(PeerIdentity.of(config(Map.of("pgferry.peers-dns", "pgferry-peers:6432")), () -> "my-proxy-12"))
                .isEqualTo(13);
        assertThat(PeerIdentity.statefulSet("my-proxy-12")).isEqualTo("my-proxy");
        assertThatThrownBy(() -> PeerIdentity.of(config(Map.of("pgferry.peers-dns", "p:6432")), () -> "laptop"))
                .hasMessageContaining("no StatefulSet pod name");
        assertThatThrownBy(() -> PeerIdentity.of(config(Map.of("pgferry.peers.\"2\".host", "h")), () -> "x"))
                .hasMessageContaining("pgferry.peer-id is not");
        assertThatThrownBy(() -> PeerIdentity.of(config(Map.of("pgferry.peer-id", "16384")), () -> "x"))
                .hasMessageContaining("1..16383");
    }
}
