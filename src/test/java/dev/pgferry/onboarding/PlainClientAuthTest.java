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
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pgferry.auth.type=plain: clients answer AuthenticationCleartextPassword; the password is checked against the users
 * file whatever the user's backend method, and PasswordMessages are checked as PostgreSQL's recv_password_packet does.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(PlainClientAuthTest.PlainAuth.class)
class PlainClientAuthTest {

    public static class PlainAuth implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.auth.type", "plain");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private RawClient askedForCleartext(String user) throws Exception {
        RawClient c = RawClient.connect(port);
        c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", user, "database", "postgres"));
        assertThat(c.expect('R').wire()).as("AuthenticationCleartextPassword")
                .containsExactly(WireBytes.message('R', WireBytes.create().int32(ProtocolCodes.AUTH_CLEARTEXT).toArray()));
        return c;
    }

    @ParameterizedTest
    @CsvSource({"postgres, secret", "scram_u, scram_pw", "md5_u, md5_pw", "plain_u, plain_pw"})
    void eachUserLogsInWithPgjdbc(String user, String password) throws Exception {
        try (Connection c = Clients.jdbc(port, user, password, "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo(user);
        }
    }

    @Test
    void psqlLogsIn() throws Exception {
        ClientProgram.Result r = Clients.psql(port, "md5_u", "md5_pw", "postgres", "select current_user", Map.of());
        assertThat(r.exitCode()).as("psql stderr: %s", r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("md5_u");
    }

    @Test
    void theCleartextPasswordIsAnsweredWithTheWelcome() throws Exception {
        try (RawClient c = askedForCleartext("plain_u")) {
            c.send(WireBytes.message('p', WireBytes.create().cstring("plain_pw").toArray()));
            c.expectAuthenticationOk();
            c.readWelcome();
            c.send(WireBytes.query("select 1"));
            assertThat(c.readUntilReady()).extracting(RawClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
        }
    }

    @ParameterizedTest
    @CsvSource({"plain_u", "scram_u", "nobody_u"})
    void aWrongPasswordOrUnknownUserIs28P01AndClose(String user) throws Exception {
        try (RawClient c = askedForCleartext(user)) {
            c.send(WireBytes.message('p', WireBytes.create().cstring("wrong").toArray()));
            c.assertRefused("28P01", "password authentication failed for user \"" + user + "\"");
        }
        Clients.assertPgjdbcWrongPasswordRefused(port, user);
    }

    /** What PostgreSQL 15 answers to each (recv_password_packet; checked against a PostgreSQL 15 server). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no terminator          | 08P01 | invalid password packet size",
        "bytes after terminator | 08P01 | invalid password packet size",
        "empty                  | 28P01 | empty password returned by client",
    })
    void aMalformedPasswordMessageIsRefused(String name, String sqlState, String message) throws Exception {
        byte[] body = switch (name) {
            case "no terminator" -> "plain_pw".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            case "bytes after terminator" -> WireBytes.create().cstring("plain_pw").byte1('x').toArray();
            default -> new byte[] {0};
        };
        try (RawClient c = askedForCleartext("plain_u")) {
            c.send(WireBytes.message('p', body));
            c.assertRefused(sqlState, message);
        }
        Clients.assertServesPgjdbc(port);
    }
}
