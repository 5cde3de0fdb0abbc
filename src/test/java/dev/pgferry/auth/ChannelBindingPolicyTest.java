package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.config.PgferryConfig.ChannelBindingMode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The client-side channel-binding decisions, case by case as libpq makes them: mechanism, gs2 header and the
 * {@code c=} attribute of the client-final-message, and what {@code require} refuses.
 */
class ChannelBindingPolicyTest {
    static final byte[] END_POINT = ScramCrypto.sha256("the server certificate".getBytes(StandardCharsets.US_ASCII));
    static final List<String> BOTH = List.of(ScramServer.MECHANISM_PLUS, ScramServer.MECHANISM);
    static final List<String> PLAIN = List.of(ScramServer.MECHANISM);

    private static ClientChannelBinding choose(ChannelBindingMode mode, List<String> offered, boolean tls)
            throws AuthException {
        return ChannelBindingPolicy.of(mode).choose(offered, tls, () -> END_POINT.clone());
    }

    private static String base64(String gs2, byte[] data) {
        byte[] h = gs2.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[h.length + data.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(data, 0, all, h.length, data.length);
        return Base64.getEncoder().encodeToString(all);
    }

    @ParameterizedTest
    @EnumSource(value = ChannelBindingMode.class, names = {"PREFER", "REQUIRE"})
    void plusOfferedOverTlsIsUsedWithTheCertificateHash(ChannelBindingMode mode) throws AuthException {
        ClientChannelBinding b = choose(mode, BOTH, true);
        assertThat(b.mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        assertThat(b.gs2Header()).isEqualTo("p=tls-server-end-point,,");
        assertThat(b.bound()).isTrue();
        assertThat(b.cAttribute()).isEqualTo(base64("p=tls-server-end-point,,", END_POINT));
        // the order of the server's list does not matter: never downgrade
        assertThat(choose(mode, List.of(ScramServer.MECHANISM, ScramServer.MECHANISM_PLUS), true).bound()).isTrue();
    }

    @Test
    void preferOverTlsWithoutPlusOfferedSendsY() throws AuthException {
        ClientChannelBinding b = choose(ChannelBindingMode.PREFER, PLAIN, true);
        assertThat(b.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(b.gs2Header()).isEqualTo("y,,");
        assertThat(b.cAttribute()).isEqualTo("eSws");
        assertThat(b.bound()).isFalse();
    }

    @Test
    void preferWithoutTlsSendsN() throws AuthException {
        ClientChannelBinding b = choose(ChannelBindingMode.PREFER, PLAIN, false);
        assertThat(b.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(b.gs2Header()).isEqualTo("n,,");
        assertThat(b.cAttribute()).isEqualTo("biws");
    }

    @ParameterizedTest
    @CsvSource({"true, true", "true, false", "false, false"})
    void disableAlwaysSendsNAndNeverHashesTheCertificate(boolean tls, boolean plusOffered) throws AuthException {
        AtomicInteger hashed = new AtomicInteger();
        Supplier<byte[]> endPoint = () -> {
            hashed.incrementAndGet();
            return END_POINT;
        };
        ClientChannelBinding b = ChannelBindingPolicy.of(ChannelBindingMode.DISABLE)
                .choose(plusOffered ? BOTH : PLAIN, tls, endPoint);
        assertThat(b).isEqualTo(ClientChannelBinding.NONE);
        assertThat(b.gs2Header()).isEqualTo("n,,");
        assertThat(b.cAttribute()).isEqualTo("biws");
        assertThat(hashed).hasValue(0);
    }

    @ParameterizedTest
    @CsvSource({"true", "false"})
    void requireRefusesAServerThatOffersOnlyPlainScram(boolean tls) {
        assertThatThrownBy(() -> choose(ChannelBindingMode.REQUIRE, PLAIN, tls))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08004");
                    assertThat(e.getMessage()).isEqualTo("channel binding is required, but server did not offer an"
                            + " authentication method that supports channel binding");
                });
    }

    @ParameterizedTest
    @EnumSource(ChannelBindingMode.class)
    void plusOfferedWithoutTlsMeansTlsWasStripped(ChannelBindingMode mode) {
        assertThatThrownBy(() -> choose(mode, BOTH, false))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection"));
    }

    @ParameterizedTest
    @EnumSource(ChannelBindingMode.class)
    void noKnownMechanismIsFeatureNotSupported(ChannelBindingMode mode) {
        assertThatThrownBy(() -> choose(mode, List.of("OAUTHBEARER"), true))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("0A000");
                    assertThat(e.getMessage()).isEqualTo("none of the server's SASL authentication mechanisms are supported");
                });
    }

    @Test
    void aCertificateThatCannotBeHashedFailsTheLoginRatherThanDowngrading() {
        assertThatThrownBy(() -> ChannelBindingPolicy.of(ChannelBindingMode.PREFER).choose(BOTH, true, () -> {
            throw new IllegalStateException("no certificate");
        })).isInstanceOfSatisfying(AuthException.class, e -> {
            assertThat(e.sqlState()).isEqualTo("08004");
            assertThat(e.getMessage()).contains("no certificate");
        });
    }

    @Test
    void requireRefusesAConnectionWithoutTls() {
        assertThatThrownBy(() -> ChannelBindingPolicy.of(ChannelBindingMode.REQUIRE).checkTransport(false))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("channel binding required, but the connection to the server does not use SSL"));
        assertThatCode(() -> ChannelBindingPolicy.of(ChannelBindingMode.REQUIRE).checkTransport(true))
                .doesNotThrowAnyException();
        assertThatCode(() -> ChannelBindingPolicy.of(ChannelBindingMode.PREFER).checkTransport(false))
                .doesNotThrowAnyException();
        assertThatCode(() -> ChannelBindingPolicy.of(ChannelBindingMode.DISABLE).checkTransport(false))
                .doesNotThrowAnyException();
    }

    @Test
    void requireRefusesCleartextMd5AndOtherRequests() {
        assertThatThrownBy(() -> ChannelBindingPolicy.of(ChannelBindingMode.REQUIRE).checkNonSaslRequest())
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08004");
                    assertThat(e.getMessage())
                            .isEqualTo("channel binding required but not supported by server's authentication request");
                });
        assertThatCode(() -> ChannelBindingPolicy.of(ChannelBindingMode.PREFER).checkNonSaslRequest())
                .doesNotThrowAnyException();
        assertThatCode(() -> ChannelBindingPolicy.of(ChannelBindingMode.DISABLE).checkNonSaslRequest())
                .doesNotThrowAnyException();
    }

    @Test
    void requireRefusesAnOkThatDidNotFollowABoundExchange() {
        assertThatThrownBy(() -> ChannelBindingPolicy.of(ChannelBindingMode.REQUIRE).checkAuthenticated(false))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("channel binding required, but server authenticated client without channel binding"));
        assertThatCode(() -> ChannelBindingPolicy.of(ChannelBindingMode.REQUIRE).checkAuthenticated(true))
                .doesNotThrowAnyException();
        assertThatCode(() -> ChannelBindingPolicy.of(ChannelBindingMode.PREFER).checkAuthenticated(false))
                .doesNotThrowAnyException();
    }

    @Test
    void requireWithoutAnyPossibleTlsIsNamedAtStartup() {
        ChannelBindingPolicy require = ChannelBindingPolicy.of(ChannelBindingMode.REQUIRE);
        assertThat(require.unusableBecause(true, false)).contains("pgferry.tls.server.mode=disable");
        assertThat(require.unusableBecause(false, true)).contains("Unix-domain socket");
        assertThat(require.unusableBecause(false, false)).as("TLS possible").isNull();
        for (ChannelBindingMode m : List.of(ChannelBindingMode.PREFER, ChannelBindingMode.DISABLE)) {
            assertThat(ChannelBindingPolicy.of(m).unusableBecause(true, true)).as(m.name()).isNull();
        }
    }
}
