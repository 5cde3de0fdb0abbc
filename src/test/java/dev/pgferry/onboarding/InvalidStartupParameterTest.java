package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * A startup parameter the server refuses ends the login as PostgreSQL ends it: FATAL 22023 before any
 * ReadyForQuery, never a "successful" login that announced the bad value in a ParameterStatus.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class InvalidStartupParameterTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    /** What the login produced, and (if it "succeeded") how the first query was answered. */
    private record Login(List<RawClient.Message> got, String firstQuery) {
        RawClient.Message last() {
            return got.get(got.size() - 1);
        }

        String describe() {
            return "got " + types(got) + (firstQuery == null ? "" : "; then the first query got " + firstQuery);
        }
    }

    private Login loginWith(String... params) throws Exception {
        List<String> nv = new ArrayList<>(List.of("user", "postgres", "database", "postgres"));
        nv.addAll(List.of(params));
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, nv.toArray(String[]::new)));
            c.scramLogin("postgres", "secret");
            List<RawClient.Message> got = new ArrayList<>();
            while (true) {
                RawClient.Message m = c.read();
                got.add(m);
                if (m.type() == 'E' || m.type() == 'Z') {
                    break;
                }
            }
            if (got.get(got.size() - 1).type() == 'E') {
                assertThat(c.closedWithin(Duration.ofSeconds(2))).as("closed after the FATAL").isTrue();
                return new Login(got, null);
            }
            c.send(WireBytes.query("select 1"));
            RawClient.Message first = c.read();
            return new Login(got, first.type() + " " + (first.type() == 'E' ? first.fields() : ""));
        }
    }

    private static List<Character> types(List<RawClient.Message> ms) {
        return ms.stream().map(RawClient.Message::type).toList();
    }

    @Test
    void anInvalidOptionsValueIsRefusedAtLogin() throws Exception {
        Login login = loginWith("options", "-c work_mem=banana");
        RawClient.Message last = login.last();
        assertThat(last.type()).as("FATAL instead of ReadyForQuery; %s", login.describe()).isEqualTo('E');
        assertThat(last.fields()).containsEntry('S', "FATAL").containsEntry('C', "22023")
                .containsEntry('M', "invalid value for parameter \"work_mem\": \"banana\"");
    }

    @Test
    void anInvalidClientEncodingIsRefusedAtLoginAndNeverAnnounced() throws Exception {
        Login login = loginWith("client_encoding", "no_such_encoding");
        assertThat(login.got().stream().filter(m -> m.type() == 'S').map(m -> m.parameter()[1]))
                .as("ParameterStatus values; %s", login.describe()).doesNotContain("no_such_encoding");
        RawClient.Message last = login.last();
        assertThat(last.type()).as("FATAL instead of ReadyForQuery; %s", login.describe()).isEqualTo('E');
        assertThat(last.fields()).containsEntry('S', "FATAL").containsEntry('C', "22023");
        assertThat(last.fields()).extractingByKey('M').asString().startsWith("invalid value for parameter \"client_encoding\"");
    }
}
