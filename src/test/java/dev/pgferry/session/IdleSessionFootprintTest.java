package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pooling.TinyPoolProfile;
import dev.pgferry.server.ProxyServer;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 18: a logged-in client that has not sent a query yet holds none of the relay's helpers (statement router,
 * relays, frame decoders, transaction tracker, lease cycle); its first query creates them, and it works as before.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class IdleSessionFootprintTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Inject
    ProxyServer server;

    /**
     * The session of {@code client}, found by the process id of its BackendKeyData (it joins the sessions right after
     * its ReadyForQuery is written: waited for).
     */
    private ClientSession sessionOf(RawWireClient client) throws InterruptedException {
        int pid = ByteBuffer.wrap(client.backendKeyData()).getInt();
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<ClientSession> found;
        do {
            found = server.context().sessions.stream().filter(s -> s.processId() == pid).toList();
        } while (found.isEmpty() && System.nanoTime() < deadline && sleep());
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(10);
        return true;
    }

    @Test
    @Timeout(60)
    void aClientHoldsNoRelayUntilItsFirstQueryThenKeepsIt() throws Exception {
        try (RawWireClient client = RawWireClient.login("127.0.0.1", port, 10_000, "md5_u", "md5_pw", "postgres")) {
            ClientSession s = sessionOf(client);
            assertThat(s.router).as("router").isNull();
            assertThat(s.requests).as("request relay").isNull();
            assertThat(s.responses).as("response relay").isNull();
            assertThat(s.clientFrames).as("client frames").isNull();
            assertThat(s.backendFrames).as("backend frames").isNull();
            assertThat(s.tx).as("transaction tracker").isNull();
            assertThat(s.txEffects).as("transaction effects").isNull();
            assertThat(s.lease).as("lease cycle").isNull();

            List<Msg> reply = client.exchange(1, RawWireClient.query("select 'first'"));
            assertThat(reply.stream().map(m -> (char) m.type()).toList()).containsExactly('T', 'D', 'C', 'Z');
            assertThat(RawWireClient.firstValue(reply)).isEqualTo("first");
            assertThat(s.router).as("created by the first query, kept between transactions").isNotNull();
            assertThat(s.lease).isNotNull();

            reply = client.exchange(1, RawWireClient.query("select 'second'"));
            assertThat(RawWireClient.firstValue(reply)).isEqualTo("second");
        }
    }
}
