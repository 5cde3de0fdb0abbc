package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * pgferry.auth.type=md5: clients answer AuthenticationMD5Password (a fresh salt per login); the response is checked
 * against the users file whatever the user's backend method (the shared cases: {@link PasswordClientAuthContract}).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(Md5ClientAuthTest.Md5Auth.class)
class Md5ClientAuthTest extends PasswordClientAuthContract {

    public static class Md5Auth implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.auth.type", "md5");
        }
    }

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

    /** Reads AuthenticationMD5Password ('R', length 12, code 5, salt) and returns the salt. */
    private static byte[] md5Salt(RawClient c) throws Exception {
        RawClient.Message request = c.expect('R');
        assertThat(request.body()).as("code and a 4-byte salt").hasSize(8);
        assertThat(request.int32(0)).as("AuthenticationMD5Password").isEqualTo(ProtocolCodes.AUTH_MD5);
        return Arrays.copyOfRange(request.body(), 4, 8);
    }

    @Override
    String postgresUserOfThisMethod() {
        return "md5_u";
    }

    @Override
    String answer(RawClient c, String user, String password) throws Exception {
        return md5Response(user, password, md5Salt(c));
    }

    @Test
    void eachLoginHasItsOwnSaltAndAnotherLoginsResponseDoesNotOpenIt() throws Exception {
        byte[] firstSalt;
        try (RawClient c = connect("md5_u")) {
            firstSalt = md5Salt(c);
        }
        try (RawClient c = connect("md5_u")) {
            byte[] salt = md5Salt(c);
            assertThat(salt).as("a fresh salt").isNotEqualTo(firstSalt);
            c.send(WireBytes.message('p', WireBytes.create().cstring(md5Response("md5_u", "md5_pw", firstSalt))
                    .toArray()));
            c.assertRefused("28P01", "password authentication failed for user \"md5_u\"");
        }
    }
}
