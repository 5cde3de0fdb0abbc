package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The refused-login log's rate limit and escaping, on a clock of the test's own. */
class RefusedLoginsTest {
    private static final long SECOND = 1_000_000_000L;
    private final List<String> lines = new ArrayList<>();
    private final RefusedLogins log = new RefusedLogins(lines::add);

    private void refuse(long now, String address) {
        log.refused(now, "C-1", "alice", "app", address, "/" + address + ":5000", "28P01",
                "password authentication failed for user \"alice\"", "Password does not match for user \"alice\".");
    }

    @Test
    void oneLineNamesUserDatabaseClientAndReason() {
        refuse(0, "10.0.0.1");
        assertThat(lines).containsExactly("login refused: user=alice database=app client=/10.0.0.1:5000 (C-1): 28P01"
                + " password authentication failed for user \"alice\": Password does not match for user \"alice\".");
    }

    @Test
    void tenLinesPerAddressAMinuteThenTheCountOfTheRestWithTheNextLine() {
        for (int i = 0; i < 25; i++) {
            refuse(i * SECOND, "10.0.0.1");
        }
        assertThat(lines).hasSize(10);
        assertThat(lines.get(9)).endsWith("(10 refused logins from 10.0.0.1 this minute: further ones are counted, not"
                + " logged, until the minute is over)");
        refuse(61 * SECOND, "10.0.0.1");
        assertThat(lines).hasSize(11);
        assertThat(lines.get(10)).endsWith("(15 more refused logins from 10.0.0.1 were not logged in the previous"
                + " minute)");
    }

    @Test
    void addressesHaveTheirOwnLimitAndAllTogetherAGlobalOne() {
        for (int i = 0; i < 12; i++) {
            refuse(0, "10.0.0.1");
            refuse(0, "10.0.0.2");
        }
        assertThat(lines).filteredOn(l -> l.contains("10.0.0.1:")).hasSize(10);
        assertThat(lines).filteredOn(l -> l.contains("10.0.0.2:")).hasSize(10);
        lines.clear();
        for (int a = 3; a < 200; a++) {
            refuse(SECOND, "10.0.1." + a);
        }
        assertThat(lines).as("100 a minute in all, 20 of them already used").hasSize(80);
        assertThat(lines.get(79)).contains("refused logins from all addresses this minute");
    }

    @Test
    void controlCharactersInNamesCannotForgeALine() {
        log.refused(0, "C-2", "eve\nINFO login ok", "db\r", "10.0.0.9", "/10.0.0.9:1", "28P01", "m", null);
        assertThat(lines).singleElement().asString().doesNotContain("\n").doesNotContain("\r")
                .contains("user=eve\\x0aINFO login ok database=db\\x0d ");
        assertThat(RefusedLogins.printable("x".repeat(1000))).hasSize(64 * 4 + 3);
    }
}
