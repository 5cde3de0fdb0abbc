package dev.pgferry.observability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** /q/health/live and /q/health/ready over HTTP, against the real PostgreSQL of the fixture. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ObservabilityProfile.class)
class HealthTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;


    private static Response get(String path) {
        return given().when().get(path);
    }

    @Test
    void liveIsUpWhileListenerIsBoundAndLoopsRun() {
        Response r = get("/q/health/live");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.jsonPath().getString("status")).isEqualTo("UP");
        assertThat(r.jsonPath().getBoolean("checks[0].data.listening")).isTrue();
        assertThat(r.jsonPath().getString("checks[0].data.event-loop-0")).isEqualTo("ok");
    }

    @Test
    void readyComesUpAfterTheFirstBackendCheckAndNamesTheDatabase() throws Exception {
        assertThat(ThroughPgferry.eventually(Duration.ofSeconds(15), () -> get("/q/health/ready").statusCode() == 200))
                .as("ready within 15 s: %s", get("/q/health/ready").asString()).isTrue();
        Response r = get("/q/health/ready");
        assertThat(r.jsonPath().getString("checks[0].name")).isEqualTo("pgferry-readiness");
        assertThat(r.jsonPath().getString("checks[0].data.'database postgres'")).startsWith("UP, last connected");
        // and a client gets through
        try (Connection c = ThroughPgferry.connect(port, "postgres", "secret", "postgres", false);
                ResultSet rs = c.createStatement().executeQuery("select 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    @Test
    void readyGoesDownWhilePostgresIsStoppedAndUpAgainAfter() throws Exception {
        PostgresFixture pg = PostgresFixture.get();
        assumeThat(pg.isLocal()).as("needs local PostgreSQL binaries to stop the server").isTrue();
        assertThat(ThroughPgferry.eventually(Duration.ofSeconds(15), () -> get("/q/health/ready").statusCode() == 200))
                .isTrue();
        try (var outage = pg.local().stopped()) {
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(15),
                    () -> get("/q/health/ready").statusCode() == 503)).as("ready DOWN while stopped").isTrue();
            Response down = get("/q/health/ready");
            assertThat(down.jsonPath().getString("status")).isEqualTo("DOWN");
            assertThat(down.jsonPath().getString("checks[0].data.'database postgres'")).startsWith("DOWN")
                    .contains("last error");
            assertThat(get("/q/health/live").statusCode()).as("liveness does not depend on the backend")
                    .isEqualTo(200);
        }
        assertThat(ThroughPgferry.eventually(Duration.ofSeconds(20), () -> get("/q/health/ready").statusCode() == 200))
                .as("ready again after restart: %s", get("/q/health/ready").asString()).isTrue();
    }
}
