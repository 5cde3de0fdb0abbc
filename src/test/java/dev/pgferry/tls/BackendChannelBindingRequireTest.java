package dev.pgferry.tls;

import static dev.pgferry.tls.ChannelBindingClients.loginRefused;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.util.ServerErrorMessage;

/**
 * pgferry.backend.channel-binding=require over TLS: a SCRAM user gets in with SCRAM-SHA-256-PLUS; a user the server
 * authenticates with MD5 or a cleartext password is refused before pgferry answers, and the client gets it as it
 * gets any other failed backend login at its first login: FATAL with the SQLSTATE and message of the failure.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@WithTestResource(PostgresTlsResource.class)
@TestProfile(BackendChannelBindingRequireTest.RequireOverTls.class)
class BackendChannelBindingRequireTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @BeforeEach
    void notePort() {
        ChannelBindingClients.port = port;
    }

    public static class RequireOverTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.tls.server.mode", "require", "pgferry.backend.channel-binding", "require");
        }
    }

    @Test
    void scramUserLogsInChannelBound() throws Exception {
        double plus0 = scramLogins("SCRAM-SHA-256-PLUS");
        loginWorksOverTls("scram_u", "postgres");
        assertThat(scramLogins("SCRAM-SHA-256-PLUS")).isGreaterThanOrEqualTo(plus0 + 1);
        assertThat(scramLogins("SCRAM-SHA-256")).isZero();
    }

    @ParameterizedTest
    @CsvSource({"md5_u", "plain_u"})
    void userWithoutScramOnTheServerIsRefused(String user) {
        ServerErrorMessage m = loginRefused(user, "postgres", "08004");
        assertThat(m.getMessage()).isEqualTo("authentication with the server failed: channel binding required but"
                + " not supported by server's authentication request");
        // and again: the refusal is not cached into a half-open pool
        assertThat(loginRefused(user, "postgres", "08004").getMessage()).isEqualTo(m.getMessage());
    }
}
