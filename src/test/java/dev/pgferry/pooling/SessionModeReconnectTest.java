package dev.pgferry.pooling;

import static dev.pgferry.testing.RawWireClient.concat;
import static dev.pgferry.testing.RawWireClient.message;
import static dev.pgferry.testing.RawWireClient.query;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.auth.Md5Auth;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Session mode with as many backends as clients, on the test profile's two event loops: every backend is held, so a
 * client that logs in as another leaves can only get the backend that one frees. It must get it at once, not after
 * {@code query-wait-timeout}, however the leaver went. The login's password goes out together with the leaver's
 * goodbye, so that the login asks the pool for a backend while the leaver's is still being reset: the freed backend
 * then comes back within a millisecond of the login's wait, on whichever loop the leaver was; about every other round
 * that is the other loop, where the backend was once left idle while the login waited out its timeout.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(SessionModeReconnectTest.FullSessionPool.class)
class SessionModeReconnectTest {
    static final int CLIENTS = 3;
    static final int ROUNDS = 40;
    static final int QUERY_WAIT_TIMEOUT_SECONDS = 5;
    static final String USER = "md5_u";
    static final String DB = "postgres";

    public static class FullSessionPool implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.pool.mode", "session", "pgferry.pool.size", String.valueOf(CLIENTS),
                    "pgferry.pool.query-wait-timeout", QUERY_WAIT_TIMEOUT_SECONDS + "s", "pgferry.auth.type", "md5");
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    /** Where the leaving client is when it goes. */
    enum Leaving {
        IDLE, AFTER_QUERY, IN_TRANSACTION, IN_FAILED_TRANSACTION, DROPPED_IN_TRANSACTION;

        /** Brings {@code c} to this point; whether it then goes without a Terminate. */
        boolean prepare(RawWireClient c) throws IOException {
            switch (this) {
                case IDLE -> {
                    return false;
                }
                case AFTER_QUERY -> run(c, "select 1");
                case IN_TRANSACTION, DROPPED_IN_TRANSACTION -> run(c, "begin; select 1");
                case IN_FAILED_TRANSACTION -> run(c, "begin; select 1/0");
            }
            return this == DROPPED_IN_TRANSACTION;
        }
    }

    private static void run(RawWireClient c, String sql) throws IOException {
        c.send(query(sql));
        assertThat(c.readUntilReady()).last().extracting(Msg::type).isEqualTo((int) 'Z');
    }

    /** A login up to its password, which {@link #finishLogin} sends. */
    private record PendingLogin(RawWireClient client, byte[] password) {}

    private PendingLogin startLogin() throws IOException {
        RawWireClient c = RawWireClient.connect("127.0.0.1", port);
        c.timeout((QUERY_WAIT_TIMEOUT_SECONDS + 10) * 1000);
        c.send(RawWireClient.startupMessage("user", USER, "database", DB));
        Msg challenge = c.read();
        assertThat(challenge.type()).as("AuthenticationMD5Password").isEqualTo((int) 'R');
        assertThat(ByteBuffer.wrap(challenge.body()).getInt()).isEqualTo(5);
        byte[] salt = Arrays.copyOfRange(challenge.body(), 4, 8);
        byte[] response = concat(Md5Auth.response(Clients.PASSWORDS.get(USER), USER, salt), new byte[] {0});
        return new PendingLogin(c, message('p', response));
    }

    /** Sends the password; returns the milliseconds until ReadyForQuery, or fails with what came instead. */
    private static long finishLogin(PendingLogin login) throws IOException {
        long t0 = System.nanoTime();
        login.client().send(login.password());
        while (true) {
            Msg m = login.client().read();
            if (m.type() == 'Z') {
                return (System.nanoTime() - t0) / 1_000_000;
            }
            assertThat(m.type()).as("login answer %s", m).isNotIn((int) 'E', -1);
        }
    }

    @ParameterizedTest
    @EnumSource(Leaving.class)
    @Timeout(300)
    void aClientLoggingInAsAnotherLeavesGetsTheFreedBackendAtOnce(Leaving leaving) throws Exception {
        RawWireClient[] clients = new RawWireClient[CLIENTS];
        try {
            for (int i = 0; i < CLIENTS; i++) {
                clients[i] = RawWireClient.login("127.0.0.1", port, 20_000, USER, Clients.PASSWORDS.get(USER), DB);
            }
            for (int round = 0; round < ROUNDS; round++) {
                int k = round % CLIENTS;
                boolean drop = leaving.prepare(clients[k]);
                PendingLogin next = startLogin();
                if (drop) {
                    clients[k].drop();
                } else {
                    clients[k].close();
                }
                clients[k] = next.client();
                long ms = finishLogin(next);
                assertThat(ms).as("round %d: milliseconds the login waited for the backend freed by a client %s", round,
                        leaving).isLessThan(2_000);
                run(clients[k], "select 1");
            }
        } finally {
            for (RawWireClient c : clients) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
