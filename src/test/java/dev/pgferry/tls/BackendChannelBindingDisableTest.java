package dev.pgferry.tls;

import static dev.pgferry.tls.ChannelBindingClients.loginWorksOverTls;
import static dev.pgferry.tls.ChannelBindingClients.scramLogins;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.PostgresTlsResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * pgferry.backend.channel-binding=disable over TLS: plain SCRAM-SHA-256 with gs2 header {@code n,,}, as libpq's
 * channel_binding=disable. This server offers PLUS over TLS, so it would refuse {@code y,,} as a downgrade: a
 * successful unbound login here is one that said {@code n}.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@WithTestResource(PostgresTlsResource.class)
@TestProfile(BackendChannelBindingDisableTest.DisableOverTls.class)
class BackendChannelBindingDisableTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @BeforeEach
    void notePort() {
        ChannelBindingClients.port = port;
    }

    public static class DisableOverTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.tls.server.mode", "require", "pgferry.backend.channel-binding", "disable");
        }
    }

    @Test
    void scramUserLogsInWithPlainScram() throws Exception {
        double plain0 = scramLogins("SCRAM-SHA-256");
        loginWorksOverTls("scram_u", "postgres");
        assertThat(scramLogins("SCRAM-SHA-256")).isGreaterThanOrEqualTo(plain0 + 1);
        assertThat(scramLogins("SCRAM-SHA-256-PLUS")).isZero();
    }
}
