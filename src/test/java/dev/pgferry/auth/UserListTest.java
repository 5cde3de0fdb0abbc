package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UserListTest {

    private static Map<String, UserSecret> parse(String text) throws IOException {
        return UserList.parse(new StringReader(text));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`\"alice\" \"pw\"`                   | alice   | pw",
        "`  \"alice\"\t\"pw\"  `              | alice   | pw",
        "`\"alice\"\"pw\"`                    | alice\"pw | ",  // "" inside quotes: one field, then no secret
        "`\"a\"\"b\" \"p\"\"w\"`              | a\"b    | p\"w",
        "`\"alice\" \"pw\" trailing junk`     | alice   | pw",
        "`\"alice\" \"pw\" \"third\"`         | alice   | pw",
        "`\"alice\",\"pw\"`                   | alice   | pw",
        "`\"sp ace\" \"p w ;#\"`              | sp ace  | p w ;#",
        "`\"\u00e9l\u00e8ve\" \"\u00fc\"`     | \u00e9l\u00e8ve | \u00fc",
    })
    void oneLine(String line, String user, String password) throws IOException {
        if (password == null) {
            assertThatThrownBy(() -> parse(line)).hasMessageStartingWith("line 1: ");
            return;
        }
        assertThat(parse(line)).containsExactly(Map.entry(user, new UserSecret.Plain(password)));
    }

    @Test
    void commentsBlankLinesAndSecretKinds() throws IOException {
        String md5 = Md5Auth.encrypt("pw", "bob");
        Map<String, UserSecret> users = parse("\uFEFF; PgBouncer comment\n"
                + "# shell-style comment\n"
                + "\n"
                + "   \n"
                + "  ; indented comment\n"
                + "\"alice\" \"plain\"\r\n"
                + "\"bob\" \"" + md5 + "\"\n");

        assertThat(users).containsExactly(
                Map.entry("alice", new UserSecret.Plain("plain")), Map.entry("bob", new UserSecret.Md5(md5)));
    }

    @Test
    void laterEntryReplacesAnEarlierOne() throws IOException {
        assertThat(parse("\"a\" \"one\"\n\"a\" \"two\"\n")).containsExactly(Map.entry("a", new UserSecret.Plain("two")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`alice pw`                           | line 3: expected a quoted user name",
        "`\"alice pw`                         | line 3: unterminated quoted user name",
        "`\"alice\"`                          | line 3: expected a quoted secret after the user name",
        "`\"alice\" pw`                       | line 3: expected a quoted secret after the user name",
        "`\"alice\" \"pw`                     | line 3: unterminated quoted secret",
        "`\"\" \"pw\"`                        | line 3: empty user name",
        "`\"alice\" \"\"`                     | line 3: empty secret",
        "`\"alice\" \"SCRAM-SHA-256$x\"`      | line 3: SCRAM secret: expected",
    })
    void badLinesAreReportedWithTheirNumber(String badLine, String message) {
        assertThatThrownBy(() -> parse("; header\n\"ok\" \"pw\"\n" + badLine + "\n\"later\" \"pw\"\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(message);
    }
}
