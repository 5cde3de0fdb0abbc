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
 * pgferry.backend.channel-binding=prefer (the default) over TLS to a PostgreSQL that offers SCRAM-SHA-256-PLUS:
 * pgferry's backend login is channel bound. The server verifies the binding itself (a wrong certificate hash
 * fails the login), so a login counted as SCRAM-SHA-256-PLUS is one the server accepted as bound; and a
 * SCRAM-SHA-256 login with {@code y} would have been refused by this server as a downgrade.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@WithTestResource(PostgresTlsResource.class)
@TestProfile(BackendChannelBindingPreferTest.PreferOverTls.class)
class BackendChannelBindingPreferTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @BeforeEach
    void notePort() {
        ChannelBindingClients.port = port;
    }

    public static class PreferOverTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.tls.server.mode", "require");
        }
    }

    @Test
    void scramUserLogsInWithScramSha256Plus() throws Exception {
        double plus0 = scramLogins("SCRAM-SHA-256-PLUS");
        loginWorksOverTls("scram_u", "bench");
        assertThat(scramLogins("SCRAM-SHA-256-PLUS")).isGreaterThanOrEqualTo(plus0 + 1);
        assertThat(scramLogins("SCRAM-SHA-256")).as("no unbound SCRAM login in this application").isZero();
    }

    @Test
    void md5AndCleartextUsersStillLogInUnderPrefer() throws Exception {
        loginWorksOverTls("md5_u", "postgres");
        loginWorksOverTls("plain_u", "postgres");
    }
}
