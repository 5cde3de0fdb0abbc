package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** SCRAM-SHA-256-PLUS with tls-server-end-point binding, and the downgrade guard, on the server side. */
class ScramChannelBindingTest {
    static final SecureRandom RANDOM = new SecureRandom();
    static final ScramKeys KEYS = ScramKeys.derive("pencil", "saltsaltsaltsalt".getBytes(StandardCharsets.US_ASCII), 4096);
    static final byte[] END_POINT = ScramCrypto.sha256("the server certificate".getBytes(StandardCharsets.US_ASCII));

    private static byte[] clientFinal(String gs2, byte[] cbind, String serverFirst, String clientFirstBare) {
        String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
        byte[] header = gs2.getBytes(StandardCharsets.US_ASCII);
        byte[] c = new byte[header.length + cbind.length];
        System.arraycopy(header, 0, c, 0, header.length);
        System.arraycopy(cbind, 0, c, header.length, cbind.length);
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(c) + ",r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] proof = ScramCrypto.xor(KEYS.clientKey(), ScramCrypto.hmac(KEYS.storedKey(), authMessage));
        return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void plusWithTheRightBindingAuthenticates() throws AuthException {
        String gs2 = "p=tls-server-end-point,,";
        String bare = "n=,r=clientnonce";
        ScramServer.ClientFinalStep step = ScramServer.start("user", Optional.of(KEYS), RANDOM)
                .withChannelBinding(END_POINT, ScramServer.MECHANISM_PLUS)
                .handleClientFirst((gs2 + bare).getBytes(StandardCharsets.US_ASCII));
        String serverFirst = new String(step.serverFirstMessage(), StandardCharsets.US_ASCII);
        ScramServer.Authenticated ok = step.handleClientFinal(clientFinal(gs2, END_POINT, serverFirst, bare));
        assertThat(ok.clientKey()).isEqualTo(KEYS.clientKey());
    }

    @Test
    void plusWithAnotherCertificatesBindingIsRefused() throws AuthException {
        String gs2 = "p=tls-server-end-point,,";
        String bare = "n=,r=clientnonce";
        ScramServer.ClientFinalStep step = ScramServer.start("user", Optional.of(KEYS), RANDOM)
                .withChannelBinding(END_POINT, ScramServer.MECHANISM_PLUS)
                .handleClientFirst((gs2 + bare).getBytes(StandardCharsets.US_ASCII));
        String serverFirst = new String(step.serverFirstMessage(), StandardCharsets.US_ASCII);
        byte[] wrong = ScramCrypto.sha256("a man in the middle".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> step.handleClientFinal(clientFinal(gs2, wrong, serverFirst, bare)))
                .isInstanceOfSatisfying(AuthException.class,
                        e -> assertThat(e.detail()).contains("Unexpected SCRAM channel-binding attribute"));
    }

    @Test
    void clientThatThinksTheServerCannotBindIsRefusedOverTls() {
        assertThatThrownBy(() -> ScramServer.start("user", Optional.of(KEYS), RANDOM)
                .withChannelBinding(END_POINT, ScramServer.MECHANISM)
                .handleClientFirst("y,,n=,r=abc".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08P01");
                    assertThat(e.getMessage()).isEqualTo("SCRAM channel binding negotiation error");
                });
    }

    @Test
    void plusWithoutBindingDataOrWithAnotherTypeIsRefused() {
        assertThatThrownBy(() -> ScramServer.start("user", Optional.of(KEYS), RANDOM)
                .withChannelBinding(END_POINT, ScramServer.MECHANISM_PLUS)
                .handleClientFirst("n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(AuthException.class);
        assertThatThrownBy(() -> ScramServer.start("user", Optional.of(KEYS), RANDOM)
                .withChannelBinding(END_POINT, ScramServer.MECHANISM_PLUS)
                .handleClientFirst("p=tls-unique,,n=,r=abc".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOfSatisfying(AuthException.class,
                        e -> assertThat(e.detail()).contains("unsupported SCRAM channel-binding type"));
    }
}
