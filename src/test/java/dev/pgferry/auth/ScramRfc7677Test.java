package dev.pgferry.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The SCRAM-SHA-256 example exchange of RFC 7677 section 3, on both sides. */
class ScramRfc7677Test {

    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    @Test
    void clientProducesTheRfcMessages() throws AuthException {
        ScramClient client = new ScramClient("user", "user", "pencil", null, null, CLIENT_NONCE);

        assertThat(new String(client.clientFirstMessage(), UTF_8)).isEqualTo(CLIENT_FIRST);
        assertThat(new String(client.handleServerFirst(SERVER_FIRST.getBytes(UTF_8)), UTF_8))
                .isEqualTo(CLIENT_FINAL);
        client.verifyServerFinal(SERVER_FINAL.getBytes(UTF_8));
    }

    @Test
    void clientWithKeysProducesTheSameProof() throws AuthException {
        ScramKeys keys = ScramKeys.derive("pencil", SALT, 4096);
        ScramClient client = new ScramClient("user", "user", null, keys.clientKey(), keys.serverKey(), CLIENT_NONCE);
        client.clientFirstMessage();

        assertThat(new String(client.handleServerFirst(SERVER_FIRST.getBytes(UTF_8)), UTF_8))
                .isEqualTo(CLIENT_FINAL);
        client.verifyServerFinal(SERVER_FINAL.getBytes(UTF_8));
    }

    @Test
    void serverProducesTheRfcMessagesAndRecoversTheClientKey() throws AuthException {
        ScramKeys keys = ScramKeys.derive("pencil", SALT, 4096);
        ScramServer.ClientFinalStep step = ScramServer
                .start("user", Optional.of(keys.toSecret()).map(ScramKeys::of), SERVER_NONCE)
                .handleClientFirst(CLIENT_FIRST.getBytes(UTF_8));

        assertThat(new String(step.serverFirstMessage(), UTF_8)).isEqualTo(SERVER_FIRST);
        ScramServer.Authenticated done = step.handleClientFinal(CLIENT_FINAL.getBytes(UTF_8));
        assertThat(new String(done.serverFinalMessage(), UTF_8)).isEqualTo(SERVER_FINAL);
        assertThat(done.clientKey()).isEqualTo(keys.clientKey());
        assertThat(done.user()).isEqualTo("user");
    }

    @Test
    void clientRejectsATamperedServerSignature() throws AuthException {
        ScramClient client = new ScramClient("user", "user", "pencil", null, null, CLIENT_NONCE);
        client.handleServerFirst(SERVER_FIRST.getBytes(UTF_8));

        assertThatThrownBy(() -> client.verifyServerFinal(
                "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class,
                        e -> assertThat(e.sqlState()).isEqualTo("28000"));
    }

    @Test
    void serverRejectsAWrongProof() throws AuthException {
        ScramKeys keys = ScramKeys.derive("pencil", SALT, 4096);
        ScramServer.ClientFinalStep step = ScramServer.start("user", Optional.of(keys), SERVER_NONCE)
                .handleClientFirst(CLIENT_FIRST.getBytes(UTF_8));
        String wrong = CLIENT_FINAL.replace("p=dHzb", "p=eHzb");

        assertThatThrownBy(() -> step.handleClientFinal(wrong.getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).isEqualTo("password authentication failed for user \"user\"");
                });
    }
}
