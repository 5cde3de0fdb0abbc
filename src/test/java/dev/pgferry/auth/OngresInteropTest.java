package dev.pgferry.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.postgresql.shaded.com.ongres.scram.client.ScramClient;
import org.postgresql.shaded.com.ongres.scram.common.StringPreparation;

/**
 * pgjdbc's SCRAM client (ongres/scram 3.2, shaded inside pgjdbc 42.7.8, configured as pgjdbc
 * configures it in {@code ScramAuthenticator}) against our {@link ScramServer}.
 */
class OngresInteropTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static ScramClient pgjdbcClient(String password) {
        return ScramClient.builder()
                .advertisedMechanisms(List.of(ScramServer.MECHANISM))
                .username("*")
                .password(password.toCharArray())
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION)
                .build();
    }

    private static ScramServer.Authenticated run(ScramClient client, Optional<ScramKeys> keys) throws Exception {
        ScramServer.ClientFinalStep step = ScramServer.start("app", keys, RANDOM)
                .handleClientFirst(client.clientFirstMessage().toString().getBytes(UTF_8));
        client.serverFirstMessage(new String(step.serverFirstMessage(), UTF_8));
        ScramServer.Authenticated done = step.handleClientFinal(
                client.clientFinalMessage().toString().getBytes(UTF_8));
        client.serverFinalMessage(new String(done.serverFinalMessage(), UTF_8)); // verifies our signature
        return done;
    }

    @Test
    void pgjdbcClientLogsInWithAPlainCredential() throws Exception {
        Optional<ScramKeys> keys = new StoredCredential("app", UserSecret.parse("p\u00e4ssw\u00f6rd")).scramKeys();

        ScramServer.Authenticated done = run(pgjdbcClient("p\u00e4ssw\u00f6rd"), keys);

        assertThat(done.clientKey()).isEqualTo(keys.orElseThrow().clientKey());
    }

    @Test
    void pgjdbcClientLogsInWithAPostgresSecret() throws Exception {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        UserSecret secret = UserSecret.parse(ScramExchangeTest.postgresScramSecret("pw", salt, 4096));

        run(pgjdbcClient("pw"), new StoredCredential("app", secret).scramKeys());
    }

    @Test
    void pgjdbcClientWithAWrongPasswordGets28P01() {
        Optional<ScramKeys> keys = new StoredCredential("app", UserSecret.parse("right")).scramKeys();

        assertThatThrownBy(() -> run(pgjdbcClient("wrong"), keys))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("28P01"));
    }

    @Test
    void saslPrepMatchesOngresPostgresqlPreparation() {
        // ASCII, mapped-to-nothing, non-ASCII space, NFKC compatibility forms, bidi violation, control.
        // ("\u00AD" alone, mapped to nothing, crashes ongres 3.2; SaslPrepTest covers it.)
        for (String password : List.of("pencil", "I\u00ADX", "a\u00A0b", "\u2168", "\u00AA", "\uFB01",
                "\u0627\u0031", "\u0627\u0031\u0628", "x\u0007", "caf\u00E9", "\u0041\u030A")) {
            byte[] salt = {1, 2, 3, 4};
            byte[] ours = ScramCrypto.hi(SaslPrep.passwordBytes(password), salt, 2);
            byte[] theirs = org.postgresql.shaded.com.ongres.scram.common.ScramFunctions.saltedPassword(
                    org.postgresql.shaded.com.ongres.scram.common.ScramMechanism.SCRAM_SHA_256,
                    StringPreparation.POSTGRESQL_PREPARATION, password.toCharArray(), salt, 2);
            assertThat(ours).as(password).isEqualTo(theirs);
        }
    }
}
