package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PlainAuthTest {

    @Test
    void plainSecret() {
        UserSecret secret = UserSecret.parse("s3cret");
        assertThat(PlainAuth.verify(secret, "u", "s3cret")).isTrue();
        assertThat(PlainAuth.verify(secret, "u", "s3cre")).isFalse();
        assertThat(PlainAuth.verify(secret, "u", "s3cret ")).isFalse();
        assertThat(PlainAuth.verify(secret, "u", "")).isFalse();
        assertThat(PlainAuth.verify(secret, "u", null)).isFalse();
    }

    @Test
    void md5SecretComparesTheEncryptedPassword() {
        UserSecret secret = UserSecret.parse(Md5Auth.encrypt("s3cret", "u"));
        assertThat(secret).isInstanceOf(UserSecret.Md5.class);
        assertThat(PlainAuth.verify(secret, "u", "s3cret")).isTrue();
        assertThat(PlainAuth.verify(secret, "v", "s3cret")).isFalse();
        assertThat(PlainAuth.verify(secret, "u", "wrong")).isFalse();
    }

    @Test
    void scramSecretDerivesWithItsSaltAndIterations() {
        UserSecret secret = ScramKeys.derive("s3cr\u00e9t", new byte[] {9, 8, 7, 6}, 64).toSecret();
        assertThat(PlainAuth.verify(secret, "u", "s3cr\u00e9t")).isTrue();
        assertThat(PlainAuth.verify(secret, "u", "s3cret")).isFalse();
    }
}
