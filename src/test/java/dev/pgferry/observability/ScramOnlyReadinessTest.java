package dev.pgferry.observability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.ServerSecretsResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The setup kubernetes/base/secret.yaml recommends: a users file of SCRAM verifiers only. No entry can answer a
 * server's challenge, so readiness asks as pg_isready does (a StartupMessage answered by an authentication request)
 * instead of logging in, and comes UP; the Service gets endpoints.
 */
@QuarkusTest
@WithTestResource(value = ServerSecretsResource.class, initArgs = {
    @ResourceArg(name = "users", value = "postgres,scram_u"), @ResourceArg(name = "file", value = "scram-only")})
@TestProfile(ScramOnlyReadinessTest.ScramOnly.class)
class ScramOnlyReadinessTest {

    /** Its own profile (the users file differs from ObservabilityProfile's tests), with the short check interval. */
    public static class ScramOnly extends ObservabilityProfile {
    }

    @Test
    void readinessComesUpWithAUsersFileOfScramVerifiersOnly() throws IOException, InterruptedException {
        Path file = Path.of("target", "server-secrets", "scram-only.txt");
        assertThat(Files.readAllLines(file)).allSatisfy(l -> assertThat(l).contains("\"SCRAM-SHA-256$"));
        assertThat(ThroughPgferry.eventually(Duration.ofSeconds(15),
                () -> given().get("/q/health/ready").statusCode() == 200))
                .as("ready: %s", given().get("/q/health/ready").asString()).isTrue();
        Response r = given().get("/q/health/ready");
        assertThat(r.jsonPath().getString("status")).isEqualTo("UP");
        assertThat(r.jsonPath().getString("checks[0].data.'database postgres'")).startsWith("UP, last connected");
    }
}
