package dev.pgferry.observability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A configured database that never answers keeps readiness DOWN, and the JSON says why; liveness stays UP. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ReadinessWithoutBackendTest.MissingDatabase.class)
class ReadinessWithoutBackendTest {

    public static class MissingDatabase extends ObservabilityProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new java.util.HashMap<>(super.getConfigOverrides());
            m.put("pgferry.databases.missing.dbname", "no_such_database");
            return m;
        }
    }

    @Test
    void readyStaysDownUntilEveryDatabaseHasConnected() throws Exception {
        assertThat(ThroughPgferry.eventually(java.time.Duration.ofSeconds(15),
                () -> data(given().get("/q/health/ready"), "database postgres").startsWith("UP"))).isTrue();
        Response r = given().when().get("/q/health/ready");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(data(r, "database missing")).startsWith("DOWN, never connected").contains("no_such_database");
        assertThat(given().when().get("/q/health/live").statusCode()).isEqualTo(200);
    }

    private static String data(Response r, String key) {
        return String.valueOf(r.jsonPath().getString("checks[0].data.'" + key + "'"));
    }
}
