package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * pgferry.auth.type=trust: no password is asked; the StartupMessage is answered with AuthenticationOk and the welcome,
 * and pgferry logs in to the server with the users file's password.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TrustClientAuthTest.TrustAuth.class)
class TrustClientAuthTest {

    public static class TrustAuth implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.auth.type", "trust");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "scram_u", "md5_u", "plain_u"})
    void eachUserLogsInWithPgjdbcWithoutAPassword(String user) throws Exception {
        try (Connection c = Clients.jdbc(port, user, null, "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo(user);
        }
    }

    @Test
    void psqlLogsInWithoutAPassword() throws Exception {
        // -w and an empty PGPASSWORD: psql fails with "no password supplied" if it is asked for one
        ClientProgram.Result r = Clients.psql(port, "scram_u", "", "postgres", "select current_user", Map.of());
        assertThat(r.exitCode()).as("psql stderr: %s", r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("scram_u");
    }

    @Test
    void theStartupMessageIsAnsweredWithAuthenticationOkAndTheWelcome() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "md5_u", "database", "postgres"));
            c.expectAuthenticationOk();
            c.readWelcome();
            c.send(WireBytes.query("select current_user"));
            assertThat(c.readUntilReady()).extracting(RawClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
        }
    }
}
