package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient.Msg;
import dev.pgferry.testing.RawWireClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code pgferry.pool.idle-transaction-timeout} and {@code pgferry.client-idle-timeout} default to 0, as PgBouncer's:
 * off. A client idle in a transaction and one idle without a backend both outlast the 1 s and 2 s of
 * {@link IdleTimeoutsTest} untouched.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class IdleTimeoutsOffTest {
    static final String DB = "postgres";

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    @Timeout(60)
    void atZeroNeitherAnIdleTransactionNorAnIdleClientIsClosed() throws Exception {
        try (Connection admin = Clients.proxy(port, "postgres", "pgferry", "preferQueryMode", "simple")) {
            Map<String, String> config = new HashMap<>();
            AdminConsoleRows.rows(admin, "SHOW CONFIG").forEach(r -> config.put(r.get("key"), r.get("value")));
            assertThat(config).containsEntry("pgferry.pool.idle-transaction-timeout", "0s")
                    .containsEntry("pgferry.client-idle-timeout", "0s");
        }
        try (RawWireClient inTransaction = raw("md5_u"); RawWireClient idle = raw("plain_u")) {
            List<Msg> begun = inTransaction.exchange(1, RawWireClient.query("begin; select 1"));
            assertThat(begun.get(begun.size() - 1)).hasToString("Ready(T)");
            Thread.sleep(3_000); // longer than either limit of IdleTimeoutsTest, and its sweeps
            List<Msg> still = inTransaction.exchange(1, RawWireClient.query("commit"));
            assertThat(still.get(still.size() - 1)).hasToString("Ready(I)");
            List<Msg> served = idle.exchange(1, RawWireClient.query("select 1"));
            assertThat(served.get(served.size() - 1)).hasToString("Ready(I)");
        }
    }

    private RawWireClient raw(String user) throws java.io.IOException {
        return RawWireClient.login(Clients.HOST, port, 10_000, user, Clients.PASSWORDS.get(user), DB);
    }
}
