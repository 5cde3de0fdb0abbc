package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.config.PgferryConfig;
import dev.pgferry.config.PgferryConfig.PoolMode;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What each pool of (database, user) runs with, resolved as PgBouncer's server.c does: the user's own setting
 * ({@code pgferry.users."u".*}, a [users] line) wins over the database's ({@code pgferry.databases."d".*}, a
 * [databases] line), which wins over {@code pgferry.pool.*}; a connection limit of 0 falls back to the global one;
 * a forced user's own limit counts.
 */
class PoolPlanTest {

    private static PgferryConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder().withMapping(PgferryConfig.class)
                .withConverter(Duration.class, 100, new DurationConverter())
                .withDefaultValues(properties).build().getConfigMapping(PgferryConfig.class);
    }

    private static final PgferryConfig CONFIG = config(Map.ofEntries(
            Map.entry("pgferry.pool.mode", "transaction"),
            Map.entry("pgferry.pool.size", "20"),
            Map.entry("pgferry.pool.reserve-size", "2"),
            Map.entry("pgferry.pool.min-idle", "1"),
            Map.entry("pgferry.pool.max-db-connections", "50"),
            Map.entry("pgferry.pool.max-user-connections", "40"),
            Map.entry("pgferry.backend.host", "default-host"),
            Map.entry("pgferry.databases.\"reports\".host", "replica"),
            Map.entry("pgferry.databases.\"reports\".port", "5433"),
            Map.entry("pgferry.databases.\"reports\".dbname", "app"),
            Map.entry("pgferry.databases.\"reports\".pool-size", "4"),
            Map.entry("pgferry.databases.\"reports\".min-pool-size", "2"),
            Map.entry("pgferry.databases.\"reports\".reserve-size", "1"),
            Map.entry("pgferry.databases.\"reports\".max-db-connections", "6"),
            Map.entry("pgferry.databases.\"reports\".pool-mode", "session"),
            Map.entry("pgferry.databases.\"unlimited\".max-db-connections", "0"),
            Map.entry("pgferry.databases.\"forced\".user", "svc"),
            Map.entry("pgferry.databases.\"forced\".password", "svc_pw"),
            Map.entry("pgferry.users.\"alice\".pool-size", "3"),
            Map.entry("pgferry.users.\"alice\".reserve-size", "0"),
            Map.entry("pgferry.users.\"alice\".pool-mode", "transaction"),
            Map.entry("pgferry.users.\"alice\".max-user-connections", "5"),
            Map.entry("pgferry.users.\"svc\".max-user-connections", "9"),
            Map.entry("pgferry.users.\"bob\".max-user-connections", "0")));

    @Test
    void withoutOwnSettingsAPoolRunsWithTheGlobalOnes() {
        PoolPlan plan = PoolPlan.of(CONFIG, new PoolKey("app", "carol"));
        assertThat(plan.target()).isEqualTo(new dev.pgferry.backend.BackendTarget("default-host", 5432, "app"));
        assertThat(plan.settings().mode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(plan.settings().maxSize()).isEqualTo(20);
        assertThat(plan.settings().reserveSize()).isEqualTo(2);
        assertThat(plan.settings().minIdle()).isEqualTo(1);
        assertThat(plan.maxDbConnections()).isEqualTo(50);
        assertThat(plan.maxUserConnections()).isEqualTo(40);
    }

    @Test
    void theDatabasesOwnSettingsWinOverTheGlobalOnes() {
        PoolPlan plan = PoolPlan.of(CONFIG, new PoolKey("reports", "carol"));
        assertThat(plan.target()).isEqualTo(new dev.pgferry.backend.BackendTarget("replica", 5433, "app"));
        assertThat(plan.settings().mode()).isEqualTo(PoolMode.SESSION);
        assertThat(plan.settings().maxSize()).isEqualTo(4);
        assertThat(plan.settings().minIdle()).isEqualTo(2);
        assertThat(plan.settings().reserveSize()).isEqualTo(1);
        assertThat(plan.maxDbConnections()).isEqualTo(6);
    }

    @Test
    void theUsersOwnSettingsWinOverTheDatabases() {
        PoolPlan plan = PoolPlan.of(CONFIG, new PoolKey("reports", "alice"));
        assertThat(plan.settings().mode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(plan.settings().maxSize()).isEqualTo(3);
        assertThat(plan.settings().reserveSize()).isZero();
        assertThat(plan.maxUserConnections()).isEqualTo(5);
        assertThat(plan.maxDbConnections()).as("a database limit, not the user's").isEqualTo(6);
        assertThat(plan.settings().minIdle()).as("min_pool_size is per database only").isEqualTo(2);
    }

    @Test
    void aConnectionLimitOfZeroFallsBackToTheGlobalOne() {
        assertThat(PoolPlan.of(CONFIG, new PoolKey("unlimited", "bob")).maxDbConnections()).isEqualTo(50);
        assertThat(PoolPlan.of(CONFIG, new PoolKey("unlimited", "bob")).maxUserConnections()).isEqualTo(40);
    }

    @Test
    void aForcedUsersLimitIsTheOneThatCounts() {
        PoolPlan plan = PoolPlan.of(CONFIG, new PoolKey("forced", "alice"));
        assertThat(plan.maxUserConnections()).as("svc's, whom the server sees").isEqualTo(9);
    }

    @Test
    void theClientsOfADatabaseWithAForcedUserShareOnePool() {
        // PgBouncer's finish_set_pool: get_pool(db, db->forced_user_credentials), whoever logged in
        assertThat(PoolPlan.key(CONFIG, "forced", "alice")).isEqualTo(new PoolKey("forced", "svc"));
        assertThat(PoolPlan.key(CONFIG, "forced", "bob")).isEqualTo(new PoolKey("forced", "svc"));
        assertThat(PoolPlan.key(CONFIG, "forced", "svc")).isEqualTo(new PoolKey("forced", "svc"));
        assertThat(PoolPlan.key(CONFIG, "reports", "alice")).as("no forced user: the client's own pool")
                .isEqualTo(new PoolKey("reports", "alice"));
        assertThat(PoolPlan.key(CONFIG, "unlisted", "bob")).isEqualTo(new PoolKey("unlisted", "bob"));
    }

    @Test
    void theForcedUsersPoolRunsWithTheForcedUsersSettings() {
        PgferryConfig config = config(Map.of("pgferry.pool.size", "20",
                "pgferry.databases.\"forced\".user", "svc",
                "pgferry.databases.\"forced\".password", "svc_pw",
                "pgferry.databases.\"forced\".pool-size", "6",
                "pgferry.users.\"alice\".pool-size", "3",
                "pgferry.users.\"svc\".pool-size", "2"));
        PoolPlan plan = PoolPlan.of(config, PoolPlan.key(config, "forced", "alice"));
        assertThat(plan.settings().maxSize()).as("svc's [users] pool_size, as PgBouncer's pool of svc").isEqualTo(2);
    }

    @Test
    void withPassthroughEachClientKeepsAPoolOfItsOwn() {
        // the server authenticates each client on a backend of the client's own, which joins the client's pool
        PgferryConfig config = config(Map.of("pgferry.auth.type", "passthrough",
                "pgferry.databases.\"forced\".user", "svc",
                "pgferry.databases.\"forced\".password", "svc_pw"));
        assertThat(PoolPlan.key(config, "forced", "alice")).isEqualTo(new PoolKey("forced", "alice"));
        assertThat(PoolPlan.key(config, "forced", "bob")).isEqualTo(new PoolKey("forced", "bob"));
    }
}
