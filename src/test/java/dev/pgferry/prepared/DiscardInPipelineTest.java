package dev.pgferry.prepared;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.describeStatement;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.sync;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pooling.TinyPoolProfile;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A DISCARD ALL in a pipeline of several Syncs, behind a request that fails: the error is that request's, the
 * DISCARD ALL runs on its own and drops the client's statements, so the name can be prepared again (differential
 * test, seed 1, step 209). PostgreSQL is the oracle: the same messages through pgferry and straight to the server.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class DiscardInPipelineTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    @Timeout(60)
    void anEarlierRequestsErrorIsNotTheDiscardsOwn() throws Exception {
        List<String> direct = script(PostgresFixture.get().port());
        assertThat(script(port)).isEqualTo(direct);
        assertThat(direct).containsExactly("1", "E 25P01", "C", "1");
    }

    private static List<String> script(int port) throws Exception {
        List<String> seen = new ArrayList<>();
        try (RawWireClient c = RawWireClient.login("127.0.0.1", port, 10_000, "scram_u", "scram_pw", "postgres")) {
            c.send(parse("s2", "select 1"), sync());
            seen.add(first(c.readUntilReady()));
            c.send(parse("", "release savepoint s"), bind(""), execute(), sync(),
                    parse("", "discard all"), bind(""), execute(), sync());
            seen.add(firstAfterParse(c.readUntilReady()));
            seen.add(firstAfterParse(c.readUntilReady()));
            c.send(parse("s2", "select 2"), describeStatement("s2"), sync());
            seen.add(first(c.readUntilReady()));
        }
        return seen;
    }

    private static String first(List<RawWireClient.Msg> reply) {
        RawWireClient.Msg m = reply.get(0);
        return m.type() == 'E' ? "E " + m.field('C') : String.valueOf((char) m.type());
    }

    /** The first answer after ParseComplete and BindComplete. */
    private static String firstAfterParse(List<RawWireClient.Msg> reply) {
        return first(reply.stream().filter(m -> m.type() != '1' && m.type() != '2').toList());
    }
}
