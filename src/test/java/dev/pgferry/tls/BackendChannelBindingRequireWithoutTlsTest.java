package dev.pgferry.tls;

import static dev.pgferry.tls.ChannelBindingClients.loginRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * pgferry.backend.channel-binding=require with pgferry.tls.server.mode=disable: no backend login can be bound, so
 * pgferry gives up each backend connection before its startup packet, and the client is told why.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(BackendChannelBindingRequireWithoutTlsTest.RequireWithoutTls.class)
class BackendChannelBindingRequireWithoutTlsTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @BeforeEach
    void notePort() {
        ChannelBindingClients.port = port;
    }

    public static class RequireWithoutTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.tls.server.mode", "disable", "pgferry.backend.channel-binding", "require");
        }
    }

    @Test
    void scramUserIsRefusedWithTheReason() {
        assertThat(loginRefused("scram_u", "postgres", "08004").getMessage()).isEqualTo(
                "authentication with the server failed: channel binding required, but the connection to the server"
                        + " does not use SSL");
    }
}
