package dev.pgferry.auth;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Md5AuthTest {

    private static final byte[] SALT = {0x01, (byte) 0xAB, 0x7F, (byte) 0x80};

    private static String md5Hex(byte[] input) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(input));
    }

    @Test
    void encryptIsMd5OfPasswordThenUser() throws Exception {
        assertThat(Md5Auth.encrypt("md5_pw", "md5_u")).isEqualTo("md5" + md5Hex("md5_pwmd5_u".getBytes(UTF_8)));
    }

    @Test
    void responseIsMd5OfTheHexHashThenTheSalt() throws Exception {
        String inner = md5Hex("md5_pwmd5_u".getBytes(UTF_8));
        byte[] input = new byte[36];
        System.arraycopy(inner.getBytes(US_ASCII), 0, input, 0, 32);
        System.arraycopy(SALT, 0, input, 32, 4);
        String expected = "md5" + md5Hex(input);

        assertThat(new String(Md5Auth.response("md5_pw", "md5_u", SALT), US_ASCII)).isEqualTo(expected);
        assertThat(new String(Md5Auth.response("md5" + inner, "md5_u", SALT), US_ASCII)).isEqualTo(expected);
    }

    @Test
    void verifyWithPlainAndMd5Secrets() {
        byte[] response = Md5Auth.response("md5_pw", "md5_u", SALT);

        assertThat(Md5Auth.verify(new UserSecret.Plain("md5_pw"), "md5_u", SALT, response)).isTrue();
        assertThat(Md5Auth.verify(new UserSecret.Md5(Md5Auth.encrypt("md5_pw", "md5_u")), "md5_u", SALT, response))
                .isTrue();
        assertThat(Md5Auth.verify(new UserSecret.Plain("other"), "md5_u", SALT, response)).isFalse();
        assertThat(Md5Auth.verify(new UserSecret.Plain("md5_pw"), "other_user", SALT, response)).isFalse();
        assertThat(Md5Auth.verify(new UserSecret.Plain("md5_pw"), "md5_u", new byte[4], response)).isFalse();
        assertThat(Md5Auth.verify(new UserSecret.Plain("md5_pw"), "md5_u", SALT, new byte[0])).isFalse();
    }

    @Test
    void aScramSecretNeverVerifiesMd5() throws Exception {
        UserSecret scram = ScramKeys.derive("md5_pw", new byte[] {1, 2, 3}, 16).toSecret();

        assertThat(Md5Auth.verify(scram, "md5_u", SALT, Md5Auth.response("md5_pw", "md5_u", SALT))).isFalse();
    }

    @Test
    void saltMustBeFourBytes() {
        assertThatThrownBy(() -> Md5Auth.response("pw", "u", new byte[3])).isInstanceOf(IllegalArgumentException.class);
    }
}
