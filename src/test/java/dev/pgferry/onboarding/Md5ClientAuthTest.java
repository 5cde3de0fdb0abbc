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
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pgferry.auth.type=md5: clients answer AuthenticationMD5Password (a fresh salt per login); the response is checked
 * against the users file whatever the user's backend method, and PasswordMessages as PostgreSQL's recv_password_packet
 * checks them.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(Md5ClientAuthTest.Md5Auth.class)
class Md5ClientAuthTest {

    public static class Md5Auth implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.auth.type", "md5");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    /** "md5" + md5(md5(password + user) in hex + salt) in hex, computed here rather than by pgferry's Md5Auth. */
    private static String md5Response(String user, String password, byte[] salt) throws Exception {
        HexFormat hex = HexFormat.of();
        String inner = hex.formatHex(MessageDigest.getInstance("MD5")
                .digest((password + user).getBytes(StandardCharsets.UTF_8)));
        MessageDigest outer = MessageDigest.getInstance("MD5");
        outer.update(inner.getBytes(StandardCharsets.US_ASCII));
        outer.update(salt);
        return "md5" + hex.formatHex(outer.digest());
    }

    private RawClient connect(String user) throws Exception {
        RawClient c = RawClient.connect(port);
        c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", user, "database", "postgres"));
        return c;
    }

    /** Reads AuthenticationMD5Password ('R', length 12, code 5, salt) and returns the salt. */
    private static byte[] md5Salt(RawClient c) throws Exception {
        RawClient.Message request = c.expect('R');
        assertThat(request.body()).as("code and a 4-byte salt").hasSize(8);
        assertThat(request.int32(0)).as("AuthenticationMD5Password").isEqualTo(ProtocolCodes.AUTH_MD5);
        return Arrays.copyOfRange(request.body(), 4, 8);
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
        ClientProgram.Result r = Clients.psql(port, "scram_u", "scram_pw", "postgres", "select current_user", Map.of());
        assertThat(r.exitCode()).as("psql stderr: %s", r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("scram_u");
    }

    @Test
    void theMd5ResponseIsAnsweredWithTheWelcomeAndEachLoginHasItsOwnSalt() throws Exception {
        byte[] firstSalt;
        try (RawClient c = connect("md5_u")) {
            firstSalt = md5Salt(c);
            c.send(WireBytes.message('p', WireBytes.create().cstring(md5Response("md5_u", "md5_pw", firstSalt))
                    .toArray()));
            c.expectAuthenticationOk();
            c.readWelcome();
            c.send(WireBytes.query("select 1"));
            assertThat(c.readUntilReady()).extracting(RawClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
        }
        try (RawClient c = connect("md5_u")) {
            byte[] salt = md5Salt(c);
            assertThat(salt).as("a fresh salt").isNotEqualTo(firstSalt);
            // the first login's response does not open the second
            c.send(WireBytes.message('p', WireBytes.create().cstring(md5Response("md5_u", "md5_pw", firstSalt))
                    .toArray()));
            c.assertRefused("28P01", "password authentication failed for user \"md5_u\"");
        }
    }

    @ParameterizedTest
    @CsvSource({"md5_u", "plain_u", "nobody_u"})
    void aWrongPasswordOrUnknownUserIs28P01AndClose(String user) throws Exception {
        try (RawClient c = connect(user)) {
            byte[] salt = md5Salt(c);
            c.send(WireBytes.message('p', WireBytes.create().cstring(md5Response(user, "wrong", salt)).toArray()));
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
        try (RawClient c = connect("md5_u")) {
            String response = md5Response("md5_u", "md5_pw", md5Salt(c));
            byte[] body = switch (name) {
                case "no terminator" -> response.getBytes(StandardCharsets.US_ASCII);
                case "bytes after terminator" -> WireBytes.create().cstring(response).byte1('x').toArray();
                default -> new byte[] {0};
            };
            c.send(WireBytes.message('p', body));
            c.assertRefused(sqlState, message);
        }
        Clients.assertServesPgjdbc(port);
    }
}
