package dev.pgferry.robustness;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.server.ProxyServer;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A server that breaks the protocol while pgferry logs in to it ({@link MisbehavingServer}): the client that asked for
 * that database gets FATAL 08P01 naming the violation and is closed, no backend stays behind, and the other
 * databases are served as before.
 */
@QuarkusTest
@WithTestResource(MisbehavingServerResource.class)
class BackendProtocolViolationsTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Inject
    ProxyServer server;

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            bad_length          | server sent an invalid message: invalid message length 2 for message type "R" (expected: 4 to 1048576)
            data_row_first      | server sent an invalid message: unexpected message type "D" during startup
            duplicate_sasl      | server sent an invalid message: duplicate SASL authentication request
            sasl_continue_first | server sent an invalid message: SASL message before SASL started
            """)
    void aProtocolViolationDuringBackendLoginGivesTheClientFatal08P01(String database, String message) throws Exception {
        assertThatThrownBy(() -> Clients.jdbc(port, database).close())
                .isInstanceOf(PSQLException.class)
                .satisfies(e -> {
                    ServerErrorMessage m = ((PSQLException) e).getServerErrorMessage();
                    assertThat(m).as("an ErrorResponse from pgferry: %s", e).isNotNull();
                    assertThat(m.getSeverity()).isEqualTo("FATAL");
                    assertThat(m.getSQLState()).isEqualTo("08P01");
                    assertThat(m.getMessage()).isEqualTo(message);
                    assertThat(m.getDetail()).isNull();
                });
        Pool pool = server.pools().get(new PoolKey(database, "postgres"));
        assertThat(pool.growth().total()).as("backends of %s kept or still opening", database).isZero();
        // the same database again: the same answer, not a hang or another error
        assertThatThrownBy(() -> Clients.jdbc(port, database).close())
                .isInstanceOf(PSQLException.class)
                .satisfies(e -> assertThat(((PSQLException) e).getServerErrorMessage().getMessage()).isEqualTo(message));
    }

    @Test
    void otherDatabasesStayServedAndReadinessNamesTheViolationPerDatabase() throws Exception {
        for (MisbehavingServer.Misbehaviour b : MisbehavingServer.Misbehaviour.values()) {
            assertThatThrownBy(() -> Clients.jdbc(port, b.database).close()).isInstanceOf(PSQLException.class);
        }
        try (Connection c = Clients.jdbc(port, "postgres"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select 41 + 1")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(42);
        }
        assertThat(given().get("/q/health/live").statusCode()).isEqualTo(200);
        // readiness checks every database with its own connections: the real one is UP, each fake DOWN with its error
        long deadline = System.nanoTime() + 15_000_000_000L;
        Response ready = given().get("/q/health/ready");
        while (!readinessSeenEverywhere(ready) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            ready = given().get("/q/health/ready");
        }
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(data(ready, "postgres")).startsWith("UP, last connected ");
        assertThat(data(ready, "duplicate_sasl")).isEqualTo(
                "DOWN, never connected, last error: server sent an invalid message: duplicate SASL authentication request");
        assertThat(data(ready, "sasl_continue_first"))
                .isEqualTo("DOWN, never connected, last error: server sent an invalid message: SASL message before SASL started");
    }

    private static boolean readinessSeenEverywhere(Response ready) {
        return data(ready, "postgres").startsWith("UP") && data(ready, "duplicate_sasl").contains("last error")
                && data(ready, "sasl_continue_first").contains("last error");
    }

    private static String data(Response r, String database) {
        return String.valueOf(r.jsonPath().getString("checks[0].data.'database " + database + "'"));
    }
}
