package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * pgferry.pool.max-client-connections=2: a third concurrent client gets PostgreSQL's FATAL 53300 "sorry, too many
 * clients already" and is closed; refused clients hold no slot, and a slot freed by a leaving client serves again.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TooManyClientsTest.TwoClients.class)
class TooManyClientsTest {

    public static class TwoClients implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.pool.max-client-connections", "2");
        }
    }

    private static final String TOO_MANY = "sorry, too many clients already";

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private void assertRawLoginRefused() throws Exception {
        try (RawClient c = RawClient.connect(port)) {
            c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", "scram_u", "database", "postgres"));
            c.assertRefused("53300", TOO_MANY);
        }
    }

    private Connection login() throws Exception {
        return Clients.jdbc(port, "scram_u", "scram_pw", "postgres");
    }

    /**
     * A login once a client has left. pgferry frees the slot when it sees the connection close, a moment after the
     * leaving client's own close returns, and a new connection may land on another event loop first: so a 53300 in
     * that moment is retried, for at most 2 s; any other failure is not.
     */
    private Connection loginOnceASlotIsFree() throws Exception {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (true) {
            try {
                return login();
            } catch (PSQLException e) {
                if (!"53300".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    @Test
    void theThirdClientIsRefusedAndALeavingClientMakesRoom() throws Exception {
        try (Connection first = login()) {
            try (Connection second = login()) {
                assertRawLoginRefused();
                PSQLException e = catchThrowableOfType(PSQLException.class, () -> login().close());
                assertThat((Throwable) e).as("pgjdbc login refused").isNotNull();
                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
                assertThat(e.getServerErrorMessage().getMessage()).isEqualTo(TOO_MANY);
                // the two refused clients left no slot taken: the two logged-in ones still work
                assertThat(Clients.queryOne(first, "select 1")).isEqualTo("1");
                assertThat(Clients.queryOne(second, "select 2")).isEqualTo("2");
                // the admin console is not refused at the limit, and takes no client's slot
                try (Connection admin = ThroughPgferry.admin(port)) {
                    assertThat(AdminConsoleRows.pool(admin, "postgres", "scram_u").get("cl_active")).isEqualTo("2");
                    assertRawLoginRefused();
                }
            }
            try (Connection third = loginOnceASlotIsFree()) {
                assertThat(Clients.queryOne(third, "select current_user")).isEqualTo("scram_u");
                assertRawLoginRefused();
            }
        }
        // everyone gone: both slots serve again
        try (Connection a = loginOnceASlotIsFree(); Connection b = loginOnceASlotIsFree()) {
            assertThat(Clients.queryOne(a, "select 1")).isEqualTo("1");
            assertThat(Clients.queryOne(b, "select 1")).isEqualTo("1");
        }
    }
}
