package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SaslPrepTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "pencil           | pencil",      // ASCII: unchanged
        "'I\u00ADX'       | IX",          // B.1 soft hyphen mapped to nothing
        "'a\u00A0b'       | a b",         // C.1.2 no-break space mapped to space
        "\u2168           | IX",          // NFKC: roman numeral nine
        "\u00AA           | a",           // NFKC: feminine ordinal
        "'A\u030A'        | \u00C5",      // NFKC composes
    })
    void preparedForm(String password, String prepared) {
        assertThat(SaslPrep.prepare(password)).isEqualTo(prepared);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "'\u00AD'",          // empty after mapping: PostgreSQL does not allow an empty prepared password
        "'x\u0085'",         // C.2.2 non-ASCII control
        "'\uE000x'",         // C.3 private use
        "'\u0627\u0031'",    // bidi: RandALCat string must end with RandALCat
        "'\u0627a\u0628'",   // bidi: RandALCat and LCat mixed
        "'\u200Ex'",         // C.8
    })
    void fallsBackToTheRawBytes(String password) {
        assertThat(SaslPrep.prepare(password)).isNull();
        assertThat(SaslPrep.passwordBytes(password)).isEqualTo(password.getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"'x\u0007'", "'a b'"})
    void asciiIsUsedAsIsEvenWithControlCharacters(String password) {
        assertThat(SaslPrep.prepare(password)).isEqualTo(password);
    }
}
