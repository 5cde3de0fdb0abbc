package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.ServerSecretsResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * pgferry.auth.type=md5 as PgBouncer's auth_type=md5 (and PostgreSQL's md5 in pg_hba.conf): a user whose secret is
 * a SCRAM verifier is asked for SCRAM, one with an MD5 hash for MD5. Before, such users were refused. The users file
 * holds the server's own secrets, so pgferry logs in to the server with the keys of the client's SCRAM proof.
 */
@QuarkusTest
@WithTestResource(value = ServerSecretsResource.class, initArgs = {
    @ResourceArg(name = "users", value = "postgres,scram_u,md5_u"), @ResourceArg(name = "file", value = "md5-type")})
@TestProfile(Md5TypeWithScramVerifiersTest.Md5Type.class)
class Md5TypeWithScramVerifiersTest {

    public static class Md5Type implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.auth.type", "md5");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    void aScramVerifierUserIsAskedForScramAndAnMd5UserForMd5() throws Exception {
        assertThat(ServerSecretsResource.secret("md5-type", "scram_u")).startsWith("SCRAM-SHA-256$");
        assertThat(ServerSecretsResource.secret("md5-type", "md5_u")).startsWith("md5");
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "scram_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).as("AuthenticationSASL").isEqualTo(ProtocolCodes.AUTH_SASL);
        }
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "md5_u", "database", "postgres"));
            assertThat(c.expect('R').int32(0)).as("AuthenticationMD5Password").isEqualTo(ProtocolCodes.AUTH_MD5);
        }
    }

    @Test
    void pgjdbcLogsInWithScramAndMd5() throws Exception {
        try (Connection c = Clients.jdbc(port, "scram_u", "scram_pw", "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("scram_u");
        }
        try (Connection c = Clients.jdbc(port, "md5_u", "md5_pw", "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("md5_u");
        }
    }

    @Test
    void psqlLogsInWithScram() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")),
                "needs psql at /usr/bin/psql (apt-get install postgresql-client)");
        ClientProgram.Result r = Clients.psql(port, "scram_u", "scram_pw", "postgres", "select current_user", Map.of());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout().trim()).isEqualTo("scram_u");
    }
}
