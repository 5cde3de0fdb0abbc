package dev.pgferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.auth.ScramKeys;
import dev.pgferry.auth.UserList;
import dev.pgferry.auth.UserSecret;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** hash-password without a terminal: the first line of standard input is the password. */
class HashPasswordCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String stdin, String... args) {
        return HashPasswordCommand.run(args, null, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void printsAUsersFileLineWhoseVerifierIsThePasswords() throws Exception {
        assertThat(run("s3cr\u00e9t \"q\"\n", "al\"ice")).isZero();
        String line = out.toString(StandardCharsets.UTF_8);
        assertThat(line).startsWith("\"al\"\"ice\" \"SCRAM-SHA-256$4096:").endsWith("\"\n").doesNotContain("s3cr");
        Map<String, UserSecret> parsed = UserList.parse(new StringReader(line));
        UserSecret.Scram secret = (UserSecret.Scram) parsed.get("al\"ice");
        assertThat(secret.iterations()).isEqualTo(4096);
        assertThat(secret.salt()).hasSize(16);
        assertThat(ScramKeys.derive("s3cr\u00e9t \"q\"", secret.salt(), 4096).toSecret()).isEqualTo(secret);
    }

    @Test
    void eachRunHasItsOwnSalt() {
        run("pw\n", "u");
        run("pw\n", "u");
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(2);
        assertThat(lines[0]).isNotEqualTo(lines[1]);
    }

    @Test
    void noUserOrAnEmptyPasswordIsRefused() {
        assertThat(run("pw\n")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage:");
        assertThat(run("\n", "u")).isEqualTo(1);
        assertThat(run("", "u")).isEqualTo(1);
        assertThat(out.size()).isZero();
    }
}
