package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UserSecretTest {

    private static final String KEY = "A".repeat(43) + "=";
    private static final String VALID = "SCRAM-SHA-256$4096:c2FsdA==$" + KEY + ":" + KEY;

    @Test
    void classifiesAsPostgresDoes() {
        assertThat(UserSecret.parse(VALID)).isInstanceOf(UserSecret.Scram.class);
        assertThat(UserSecret.parse("md5" + "0123456789abcdef".repeat(2))).isInstanceOf(UserSecret.Md5.class);
        // Not exactly "md5" + 32 lowercase hex: a plaintext password, as in PostgreSQL.
        assertThat(UserSecret.parse("md5" + "0123456789ABCDEF".repeat(2))).isInstanceOf(UserSecret.Plain.class);
        assertThat(UserSecret.parse("md5abc")).isInstanceOf(UserSecret.Plain.class);
        assertThat(UserSecret.parse("hunter2")).isEqualTo(new UserSecret.Plain("hunter2"));
    }

    @Test
    void scramSecretRoundTripsAndComparesByContent() {
        UserSecret.Scram scram = (UserSecret.Scram) UserSecret.parse(VALID);
        assertThat(scram.iterations()).isEqualTo(4096);
        assertThat(scram.salt()).isEqualTo("salt".getBytes());
        assertThat(scram.toSecretString()).isEqualTo(VALID);
        assertThat(UserSecret.parse(VALID)).isEqualTo(scram).hasSameHashCodeAs(scram);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "SCRAM-SHA-256$                                  | expected <iterations>",
        "SCRAM-SHA-256$4096:c2FsdA==                     | expected <iterations>",
        "SCRAM-SHA-256$4096c2FsdA==$K:K                  | expected <iterations>:<salt>",
        "SCRAM-SHA-256$x:c2FsdA==$K:K                    | invalid iteration count",
        "SCRAM-SHA-256$0:c2FsdA==$K:K                    | iteration count",
        "SCRAM-SHA-256$99999999999:c2FsdA==$K:K          | iteration count",
        "SCRAM-SHA-256$4096:c2F!dA==$K:K                 | salt is not valid base64",
        "SCRAM-SHA-256$4096:$K:K                         | empty salt",
        "SCRAM-SHA-256$4096:c2FsdA==$K                   | expected <StoredKey>:<ServerKey>",
        "SCRAM-SHA-256$4096:c2FsdA==$c2FsdA==:c2FsdA==   | must be 32 bytes",
        "SCRAM-SHA-256$4096:c2FsdA==$K:K$x               | expected <iterations>",
    })
    void malformedScramSecretNamesTheProblemButNotTheSecret(String secret, String problem) {
        String s = secret.replace("$K:K", "$" + KEY + ":" + KEY).replace("$K", "$" + KEY);
        assertThatThrownBy(() -> UserSecret.parse(s))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(problem)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(KEY).doesNotContain("c2F"));
    }

    @Test
    void emptySecretIsRefused() {
        assertThatThrownBy(() -> UserSecret.parse("")).hasMessage("empty secret");
    }

    @Test
    void toStringNeverShowsTheSecret() {
        assertThat(UserSecret.parse("hunter2").toString()).doesNotContain("hunter2");
        assertThat(UserSecret.parse(Md5Auth.encrypt("pw", "u")).toString()).doesNotContain("md5" + "0");
        assertThat(UserSecret.parse(VALID).toString()).doesNotContain(KEY);
    }
}
