package dev.pgferry.observability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * /q/metrics after failures provoked on purpose: a client that gives up waiting for a backend and a malformed startup
 * packet move their counters by exactly one, with their labels, and a waiting client shows in the waiting gauge.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(FailureMetricsTest.ShortWait.class)
class FailureMetricsTest {
    static final int QUERY_WAIT_SECONDS = 3;

    /** The observability ports, plus database {@code tiny} (PostgreSQL's {@code postgres}) with one backend per user. */
    public static class ShortWait extends ObservabilityProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new HashMap<>(super.getConfigOverrides());
            m.put("pgferry.pool.query-wait-timeout", QUERY_WAIT_SECONDS + "s");
            m.put("pgferry.databases.tiny.dbname", "postgres");
            m.put("pgferry.databases.tiny.pool-size", "1");
            return m;
        }
    }

    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private static final Map<String, String> TINY = Map.of("database", "tiny", "user", "plain_u");

    private static PrometheusText scrape() {
        return new PrometheusText(given().when().get("/q/metrics").then().statusCode(200).extract().asString());
    }

    private static int scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aClientWaitingPastQueryWaitTimeoutIsCountedWaitingThenAsOnePoolTimeout() throws Exception {
        try (Connection holder = ThroughPgferry.connect(port, "plain_u", "plain_pw", "tiny", true);
                Connection waiter = ThroughPgferry.connect(port, "plain_u", "plain_pw", "tiny", true)) {
            holder.setAutoCommit(false);
            assertThat(scalar(holder, "select 1")).isEqualTo(1); // holds the pool's only backend
            PrometheusText before = scrape();
            double timeouts0 = before.value("pgferry_pool_timeouts_total", TINY);
            assertThat(timeouts0).as("the pool's meters exist since its first lease").isNotNaN();
            assertThat(before.value("pgferry_clients_waiting", TINY)).isZero();

            CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return scalar(waiter, "select 2");
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            // the client gauges read a tally at most half a second old
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(QUERY_WAIT_SECONDS - 1),
                    () -> scrape().value("pgferry_clients_waiting", TINY) == 1)).as("pgferry_clients_waiting == 1").isTrue();
            PrometheusText during = scrape();
            assertThat(during.value("pgferry_pool_max_wait_seconds", TINY)).isGreaterThan(0);
            assertThat(during.value("pgferry_pool_timeouts_total", TINY)).isEqualTo(timeouts0);

            assertThatThrownBy(() -> waiting.get(QUERY_WAIT_SECONDS + 5, TimeUnit.SECONDS)).satisfies(e -> {
                assertThat(e.getCause()).isInstanceOf(PSQLException.class);
                ServerErrorMessage m = ((PSQLException) e.getCause()).getServerErrorMessage();
                assertThat(m.getSeverity()).isEqualTo("ERROR");
                assertThat(m.getSQLState()).isEqualTo("53300");
                assertThat(m.getMessage()).isEqualTo("pgferry: query_wait_timeout: no server connection for pool "
                        + "\"tiny/plain_u\" within " + QUERY_WAIT_SECONDS + " s");
            });
            PrometheusText after = scrape();
            assertThat(after.value("pgferry_pool_timeouts_total", TINY)).isEqualTo(timeouts0 + 1);
            assertThat(after.value("pgferry_pool_timeouts_total", Map.of("database", "postgres", "user", "plain_u")))
                    .as("no other pool's counter").isIn(Double.NaN, 0.0);
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(3),
                    () -> scrape().value("pgferry_clients_waiting", TINY) == 0)).as("pgferry_clients_waiting back to 0")
                    .isTrue();
            holder.commit();
            assertThat(scalar(waiter, "select 3")).as("the client that timed out is kept and served").isEqualTo(3);
        }
    }

    @Test
    void aMalformedStartupPacketIsOneProtocolErrorAndOneProtocolRefusal() throws Exception {
        Map<String, String> protocol = Map.of("reason", "protocol");
        PrometheusText before = scrape();
        double errors0 = before.value("pgferry_protocol_errors_total", Map.of());
        double refusals0 = before.value("pgferry_login_refusals_total", protocol);
        try (RawWireClient c = RawWireClient.connect("127.0.0.1", port)) {
            c.timeout(5000);
            c.send(new byte[] {0, 0, 0, 3}); // a length below the 8 bytes of the smallest startup packet
            // closed without a word, as by PostgreSQL (COMMERROR "invalid length of startup packet"), and counted
            assertThat(c.read()).isEqualTo(Msg.EOF);
        }
        PrometheusText after = scrape();
        assertThat(after.value("pgferry_protocol_errors_total", Map.of())).isEqualTo(errors0 + 1);
        assertThat(after.value("pgferry_login_refusals_total", protocol)).isEqualTo(refusals0 + 1);
    }
}
