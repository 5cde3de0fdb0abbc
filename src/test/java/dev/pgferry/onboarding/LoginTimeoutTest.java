package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A client that does not finish its login within pgferry.client-login-timeout (1 s here) is told so and closed. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(LoginTimeoutTest.ShortLoginTimeout.class)
class LoginTimeoutTest {

    public static class ShortLoginTimeout implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.client-login-timeout", "1s");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private static void assertTimedOut(RawClient c) throws Exception {
        long start = System.nanoTime();
        RawClient.Message error = c.expect('E');
        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(error.fields()).containsExactly(Map.entry('S', "FATAL"), Map.entry('V', "FATAL"),
                Map.entry('C', "57014"), Map.entry('M', "canceling authentication due to timeout"));
        assertThat(waitedMillis).as("waited about the login timeout").isBetween(500L, 4_000L);
        assertThat(c.closedWithin(Duration.ofSeconds(2))).isTrue();
    }

    @AfterEach
    void stillServesOthers() throws Exception {
        Clients.assertServesPgjdbc(port);
    }

    @Test
    void aClientThatSendsNothingIsClosedAfterTheLoginTimeout() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            assertTimedOut(c);
        }
    }

    @Test
    void halfAStartupPacketIsClosedAfterTheLoginTimeout() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            byte[] startup = WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres");
            c.send(java.util.Arrays.copyOf(startup, startup.length / 2));
            assertTimedOut(c);
        }
    }

    @Test
    void aClientStuckAfterSslRequestIsClosedAfterTheLoginTimeout() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.create().int32(8).int32(ProtocolCodes.SSL_REQUEST_CODE).toArray());
            assertThat(c.readByte()).isEqualTo('N');
            assertTimedOut(c);
        }
    }

    @Test
    void aClientThatNeverAnswersTheAuthenticationRequestIsClosedAfterTheLoginTimeout() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "scram_u"));
            assertThat(c.expect('R').int32(0)).isEqualTo(10);
            assertTimedOut(c);
        }
    }

    @Test
    void aLoggedInClientIsNotClosedByTheLoginTimeout() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "postgres"));
            c.scramLogin("postgres", "secret");
            c.readUntilReady();
            assertThat(c.closedWithin(Duration.ofMillis(2_000))).as("still open after twice the timeout").isFalse();
            c.send(WireBytes.query("select 1"));
            assertThat(c.readUntilReady()).extracting(RawClient.Message::type).containsExactly('T', 'D', 'C', 'Z');
        }
    }
}
