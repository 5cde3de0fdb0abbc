package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** pgferry's SCRAM client with each channel binding against pgferry's SCRAM server, which checks it as PostgreSQL does. */
class ScramClientChannelBindingTest {
    static final SecureRandom RANDOM = new SecureRandom();
    static final byte[] SALT = "saltsaltsaltsalt".getBytes(StandardCharsets.US_ASCII);
    static final ScramKeys KEYS = ScramKeys.derive("pencil", SALT, 4096);
    static final byte[] END_POINT = ScramCrypto.sha256("the server certificate".getBytes(StandardCharsets.US_ASCII));

    /** Runs a whole exchange; the server is on TLS with {@code serverEndPoint} and offers PLUS. */
    private static ScramClient login(ClientChannelBinding binding, byte[] serverEndPoint) throws AuthException {
        ScramClient client = ScramClient.withPassword("user", "pencil", binding);
        ScramServer.ClientFinalStep step = ScramServer.start("user", Optional.of(KEYS), RANDOM)
                .withChannelBinding(serverEndPoint, client.mechanism())
                .handleClientFirst(client.clientFirstMessage());
        byte[] clientFinal = client.handleServerFirst(step.serverFirstMessage());
        assertThat(new String(clientFinal, StandardCharsets.UTF_8)).startsWith("c=" + binding.cAttribute() + ",r=");
        ScramServer.Authenticated ok = step.handleClientFinal(clientFinal);
        assertThat(client.channelBound()).as("not bound before the server's signature is checked").isFalse();
        client.verifyServerFinal(ok.serverFinalMessage());
        return client;
    }

    @Test
    void plusWithTheServersCertificateHashAuthenticatesAndIsChannelBound() throws AuthException {
        ClientChannelBinding plus = ClientChannelBinding.tlsServerEndPoint(END_POINT);
        ScramClient client = login(plus, END_POINT);
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8)).startsWith("p=tls-server-end-point,,n=,r=");
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        assertThat(client.channelBound()).isTrue();
    }

    @Test
    void plusBoundToAnotherCertificateIsRefusedByTheServer() {
        // what a man in the middle terminating TLS with its own certificate would produce
        byte[] mitm = ScramCrypto.sha256("a man in the middle".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> login(ClientChannelBinding.tlsServerEndPoint(mitm), END_POINT))
                .isInstanceOf(AuthException.class);
    }

    @Test
    void yWhereTheServerSupportsBindingIsRefusedAsADowngrade() {
        assertThatThrownBy(() -> login(ClientChannelBinding.NOT_OFFERED, END_POINT))
                .isInstanceOfSatisfying(AuthException.class,
                        e -> assertThat(e.getMessage()).isEqualTo("SCRAM channel binding negotiation error"));
    }

    @Test
    void nOverTlsAuthenticatesUnbound() throws AuthException {
        ScramClient client = login(ClientChannelBinding.NONE, END_POINT);
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8)).startsWith("n,,n=,r=");
        assertThat(client.verified()).isTrue();
        assertThat(client.channelBound()).isFalse();
    }

    @Test
    void keysAreDerivedOncePerPasswordSaltAndIterationsWhateverTheBinding() throws AuthException {
        SaltedPasswordCache.clear();
        login(ClientChannelBinding.tlsServerEndPoint(END_POINT), END_POINT);
        login(ClientChannelBinding.tlsServerEndPoint(END_POINT), END_POINT);
        login(ClientChannelBinding.NONE, END_POINT);
        assertThat(SaltedPasswordCache.size()).isEqualTo(1);
    }

    @Test
    void aFailedServerSignatureLeavesTheLoginUnbound() throws AuthException {
        ScramClient client = ScramClient.withPassword("user", "pencil", ClientChannelBinding.tlsServerEndPoint(END_POINT));
        ScramServer.ClientFinalStep step = ScramServer.start("user", Optional.of(KEYS), RANDOM)
                .withChannelBinding(END_POINT, ScramServer.MECHANISM_PLUS)
                .handleClientFirst(client.clientFirstMessage());
        client.handleServerFirst(step.serverFirstMessage());
        assertThatThrownBy(() -> client.verifyServerFinal("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(AuthException.class);
        assertThat(client.channelBound()).isFalse();
    }
}
