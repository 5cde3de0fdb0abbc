package dev.pgferry.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgferry.hosts.HostList.Address;
import dev.pgferry.hosts.TargetRole;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** pgferry.databases."x".hosts and target-role as the pools read them. */
class EffectivePoolConfigHostsTest {

    private static EffectivePoolConfig config(Map<String, String> properties) {
        return new EffectivePoolConfig(new SmallRyeConfigBuilder().withMapping(PgferryConfig.class)
                .withConverter(Duration.class, 100, new DurationConverter()).withDefaultValues(properties).build()
                .getConfigMapping(PgferryConfig.class));
    }

    @Test
    void aHostListWithTargetRolesInLibpqWords() {
        EffectivePoolConfig e = config(Map.of(
                "pgferry.databases.app.hosts", "h1:5432,h2",
                "pgferry.databases.app.port", "6000",
                "pgferry.databases.app_ro.hosts", "h1:5432,h2:5432",
                "pgferry.databases.app_ro.target-role", "prefer-standby"));
        assertEquals(List.of(new Address("h1", 5432), new Address("h2", 6000)), e.hosts("app"));
        assertEquals(TargetRole.READ_WRITE, e.targetRole("app"));
        assertEquals(TargetRole.PREFER_STANDBY, e.targetRole("app_ro"));
    }

    @Test
    void oneHostAndPortStillWork() {
        EffectivePoolConfig e = config(Map.of("pgferry.databases.one.host", "db", "pgferry.databases.one.port", "5433"));
        assertEquals(List.of(new Address("db", 5433)), e.hosts("one"));
        assertEquals(TargetRole.ANY, e.targetRole("one"));
        assertEquals(List.of(new Address("127.0.0.1", 5432)), e.hosts("unlisted"));
    }

    @Test
    void anEmptyListIsAnErrorNamingTheKey() {
        EffectivePoolConfig e = config(Map.of("pgferry.databases.app.hosts", " , "));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> e.hosts("app"));
        assertTrue(error.getMessage().startsWith("pgferry.databases.\"app\".hosts"), error.getMessage());
    }
}
