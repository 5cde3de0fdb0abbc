package dev.pgferry.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.Base64;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Whatever a client sends, the server answers with an AuthException and nothing else. */
class ScramServerMalformedInputTest {

    private static final ScramKeys KEYS = ScramKeys.derive("pencil", ScramRfc7677Test.SALT, 4096);
    private static final String NONCE = ScramRfc7677Test.CLIENT_NONCE + ScramRfc7677Test.SERVER_NONCE;

    private static ScramServer.ClientFirstStep server() {
        return ScramServer.start("user", Optional.of(KEYS), ScramRfc7677Test.SERVER_NONCE);
    }

    private static ScramServer.ClientFinalStep afterFirst(String clientFirst) throws AuthException {
        return server().handleClientFirst(clientFirst.getBytes(UTF_8));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''                                  | 08P01",
        "n                                   | 08P01",
        "n,                                  | 08P01",
        "n,,                                 | 08P01",
        "n,,n=user                           | 08P01",
        "n,,n=user,                          | 08P01",
        "n,,r=abc                            | 08P01",
        "n,,n=user,r=                        | 08P01",
        "n,,n=user,r=ab c                    | 08P01",
        "x,,n=user,r=abc                     | 08P01",
        "p=tls-server-end-point,,n=u,r=abc   | 08P01",
        "n,a=admin,n=user,r=abc              | 0A000",
        "n,,m=ext,n=user,r=abc               | 0A000",
        "n,,n=user,r=abc,1=x                 | 08P01",
        "n,,n=user,r=abc,x                   | 08P01",
        "nn,n=user,r=abc                     | 08P01",
    })
    void malformedClientFirst(String message, String sqlState) {
        assertThatThrownBy(() -> server().handleClientFirst(message.getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo(sqlState));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "c=biws",
        "c=biws,r=" + NONCE,
        "c=biws,r=" + NONCE + ",",
        "r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=wrongnonce,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" + NONCE + "x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=eSws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", // "y,," ≠ "n,,"
        "c=b!ws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
        "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7And!Q=",
        "c=biws,r=" + NONCE + ",p=dHzbZapW",
        "c=biws,r=" + NONCE + ",p=",
        "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
        "c=biws,r=" + NONCE + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,",
        "c=biws,r=" + NONCE + ",7=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" + NONCE + ",p:dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    })
    void malformedClientFinal(String message) throws AuthException {
        ScramServer.ClientFinalStep step = afterFirst(ScramRfc7677Test.CLIENT_FIRST);

        assertThatThrownBy(() -> step.handleClientFinal(message.getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"n,,", "y,,"})
    void channelBindingMustEchoTheGs2Header(String gs2) throws AuthException {
        ScramServer.ClientFinalStep step = afterFirst(gs2 + "n=user,r=" + ScramRfc7677Test.CLIENT_NONCE);
        String echo = Base64.getEncoder().encodeToString((gs2.equals("n,,") ? "y,," : "n,,").getBytes(UTF_8));

        assertThatThrownBy(() -> step.handleClientFinal(("c=" + echo + ",r=" + NONCE
                + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=").getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
    }

    @org.junit.jupiter.api.Test
    void invalidUtf8AndNulAreMalformed() {
        for (byte[] bad : new byte[][] {{'n', ',', ',', (byte) 0xC3}, {'n', ',', ',', 0, 'n', '='}}) {
            assertThatThrownBy(() -> server().handleClientFirst(bad))
                    .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
        }
    }

    @org.junit.jupiter.api.Test
    void extensionsAfterTheNonceAndBeforeTheProofAreIgnored() throws AuthException {
        ScramServer.ClientFinalStep step = afterFirst(ScramRfc7677Test.CLIENT_FIRST + ",x=ext");
        // The AuthMessage now differs from the RFC's, so the RFC proof no longer verifies: 28P01, not 08P01.
        assertThatThrownBy(() -> step.handleClientFinal(ScramRfc7677Test.CLIENT_FINAL.getBytes(UTF_8)))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.sqlState()).isEqualTo("28P01"));
    }

    @Property(tries = 2000)
    void randomBytesAsClientFirstOnlyEverRaiseAuthException(@ForAll byte[] data) {
        Throwable thrown = catchThrowable(() -> server().handleClientFirst(data));
        assertThat(thrown).satisfiesAnyOf(t -> assertThat(t).isNull(), t -> assertThat(t).isInstanceOf(AuthException.class));
    }

    @Property(tries = 2000)
    void randomBytesAsClientFinalOnlyEverRaiseAuthException(@ForAll byte[] data) throws AuthException {
        ScramServer.ClientFinalStep step = afterFirst(ScramRfc7677Test.CLIENT_FIRST);
        assertThat(catchThrowable(() -> step.handleClientFinal(data))).isInstanceOf(AuthException.class);
    }

    @Property(tries = 2000)
    void mutatedValidMessagesOnlyEverRaiseAuthException(@ForAll("mutations") String[] pair) {
        Throwable thrown = catchThrowable(() -> afterFirst(pair[0]).handleClientFinal(pair[1].getBytes(UTF_8)));
        assertThat(thrown).satisfiesAnyOf(t -> assertThat(t).isNull(), t -> assertThat(t).isInstanceOf(AuthException.class));
    }

    /** The RFC messages, truncated or with one character replaced by a SCRAM-significant one. */
    @Provide
    Arbitrary<String[]> mutations() {
        Arbitrary<String> first = mutate(ScramRfc7677Test.CLIENT_FIRST);
        Arbitrary<String> fin = mutate(ScramRfc7677Test.CLIENT_FINAL);
        return Combinators.combine(first, fin, Arbitraries.of(0, 1, 2))
                .as((f, c, which) -> switch (which) {
                    case 0 -> new String[] {f, ScramRfc7677Test.CLIENT_FINAL};
                    case 1 -> new String[] {ScramRfc7677Test.CLIENT_FIRST, c};
                    default -> new String[] {f, c};
                });
    }

    private static Arbitrary<String> mutate(String valid) {
        Arbitrary<Integer> index = Arbitraries.integers().between(0, valid.length() - 1);
        Arbitrary<Character> replacement = Arbitraries.of(',', '=', 'p', 'r', 'c', 'n', 'y', '\u00e9', '/', ' ');
        Arbitrary<String> replaced = Combinators.combine(index, replacement)
                .as((i, ch) -> valid.substring(0, i) + ch + valid.substring(i + 1));
        Arbitrary<String> truncated = index.map(i -> valid.substring(0, i));
        return Arbitraries.oneOf(replaced, truncated);
    }
}
