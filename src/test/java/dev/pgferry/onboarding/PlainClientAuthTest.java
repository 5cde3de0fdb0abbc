package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;

/**
 * pgferry.auth.type=plain: clients answer AuthenticationCleartextPassword; the password is checked against the users
 * file whatever the user's backend method (the cases: {@link PasswordClientAuthContract}).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(PlainClientAuthTest.PlainAuth.class)
class PlainClientAuthTest extends PasswordClientAuthContract {

    public static class PlainAuth implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.auth.type", "plain");
        }
    }

    @Override
    String postgresUserOfThisMethod() {
        return "plain_u";
    }

    @Override
    String answer(RawClient c, String user, String password) throws Exception {
        assertThat(c.expect('R').wire()).as("AuthenticationCleartextPassword")
                .containsExactly(WireBytes.message('R', WireBytes.create().int32(ProtocolCodes.AUTH_CLEARTEXT).toArray()));
        return password;
    }
}
