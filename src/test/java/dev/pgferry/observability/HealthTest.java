package dev.pgferry.observability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.pgferry.observability.health.LivenessCheck;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
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

    @Inject
    io.vertx.core.Vertx vertx;

    @Inject
    @Liveness
    LivenessCheck liveness;

    /**
     * A handler that never returns blocks its event loop and every client on it: liveness goes DOWN naming that
     * loop once it has missed its watchdog ticks for 5 s, and comes UP again when the loop runs again. (Asked of the
     * check itself: an HTTP request could land on the blocked loop and wait for it.)
     */
    @Test
    void liveGoesDownWhileAnEventLoopIsBlockedAndUpAfter() throws Exception {
        java.util.List<io.netty.util.concurrent.EventExecutor> loops = new java.util.ArrayList<>();
        ((io.vertx.core.impl.VertxInternal) vertx).getEventLoopGroup().forEach(loops::add);
        int blocked = loops.size() - 1;
        String name = "event-loop-" + blocked;
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        loops.get(blocked).execute(() -> {
            try {
                release.await(20, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            Thread.sleep(3000);
            assertThat(liveness.call().getStatus()).as("blocked for ~3 s: not yet").isEqualTo(HealthCheckResponse.Status.UP);
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(5),
                    () -> liveness.call().getStatus() == HealthCheckResponse.Status.DOWN)).isTrue();
            HealthCheckResponse down = liveness.call();
            assertThat(down.getData().orElseThrow().get(name)).asString().matches("blocked for \\d+ ms");
            assertThat(down.getData().orElseThrow().get("listening")).isEqualTo(true);
            for (int i = 0; i < blocked; i++) {
                assertThat(down.getData().orElseThrow().get("event-loop-" + i)).isEqualTo("ok");
            }
        } finally {
            release.countDown();
        }
        assertThat(ThroughPgferry.eventually(Duration.ofSeconds(3),
                () -> liveness.call().getStatus() == HealthCheckResponse.Status.UP)).isTrue();
        assertThat(get("/q/health/live").statusCode()).isEqualTo(200);
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
