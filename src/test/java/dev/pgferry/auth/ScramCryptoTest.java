package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.NumericChars;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class ScramCryptoTest {

    @Property(tries = 50)
    void hiMatchesTheJdkPbkdf2(@ForAll @AlphaChars @NumericChars @StringLength(min = 1, max = 40) String password,
            @ForAll @Size(min = 1, max = 32) byte[] salt, @ForAll @IntRange(min = 1, max = 50) int iterations)
            throws Exception {
        byte[] expected = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();

        assertThat(ScramCrypto.hi(password.getBytes(StandardCharsets.UTF_8), salt, iterations)).isEqualTo(expected);
    }

    @Test
    void anEmptyPasswordIsTheSameHmacKeyAsOneZeroByte() {
        byte[] salt = {1, 2, 3};
        assertThat(ScramCrypto.hi(new byte[0], salt, 3)).isEqualTo(ScramCrypto.hi(new byte[1], salt, 3));
    }
}
