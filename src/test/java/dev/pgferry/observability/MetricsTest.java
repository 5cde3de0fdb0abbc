package dev.pgferry.observability;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** /q/metrics after real traffic through pgferry: the counters carry the numbers of what was done. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ObservabilityProfile.class)
class MetricsTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private static final int N = 25;
    private static final Map<String, String> POOL = Map.of("database", "bench", "user", "md5_u");

    private static PrometheusText scrape() {
        return new PrometheusText(given().when().get("/q/metrics").then().statusCode(200).extract().asString());
    }

    private static double orZero(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    @Test
    void countersCountTheTransactionsQueriesAndBytesOfAPool() throws SQLException {
        PrometheusText before = scrape();
        double tx0 = orZero(before.value("pgferry_transactions_total", POOL));
        double q0 = orZero(before.value("pgferry_queries_total", POOL));
        double leases0 = orZero(before.value("pgferry_lease_wait_seconds_count", POOL));
        double logins0 = orZero(before.value("pgferry_logins_total", Map.of()));
        try (Connection c = ThroughPgferry.connect(port, "md5_u", "md5_pw", "bench", true);
                Statement st = c.createStatement()) {
            for (int i = 0; i < N; i++) {
                st.execute("select " + i);
            }
        }
        PrometheusText after = scrape();
        assertThat(after.value("pgferry_transactions_total", POOL)).isGreaterThanOrEqualTo(tx0 + N);
        assertThat(after.value("pgferry_queries_total", POOL)).isGreaterThanOrEqualTo(q0 + N);
        assertThat(after.value("pgferry_lease_wait_seconds_count", POOL)).isGreaterThanOrEqualTo(leases0 + N);
        assertThat(after.value("pgferry_lease_wait_seconds_bucket", Map.of("database", "bench", "user", "md5_u",
                "le", "30.0"))).isGreaterThanOrEqualTo(leases0 + N);
        assertThat(after.value("pgferry_received_bytes_total", POOL)).isGreaterThan(N * 10.0);
        assertThat(after.value("pgferry_sent_bytes_total", POOL)).isGreaterThan(N * 10.0);
        assertThat(after.value("pgferry_logins_total", Map.of())).isGreaterThanOrEqualTo(logins0 + 1);
        assertThat(after.value("pgferry_backends_total", POOL)).isGreaterThanOrEqualTo(1);
        assertThat(after.value("pgferry_backends_idle", POOL)).isGreaterThanOrEqualTo(1);
        assertThat(after.value("pgferry_backends_active", POOL)).isZero();
        assertThat(after.value("pgferry_backends_being_canceled", POOL)).isZero();
        assertThat(after.value("pgferry_pool_timeouts_total", POOL)).isZero();
        assertThat(after.value("pgferry_idle_transaction_timeouts_total", POOL)).isZero();
        assertThat(after.value("pgferry_client_idle_timeouts_total", POOL)).isZero();
        assertThat(after.value("pgferry_backend_reserve_opened_total", POOL)).as("no reserve by default").isZero();
        for (String name : new String[] {"pgferry_transactions_total", "pgferry_queries_total",
                "pgferry_clients_active", "pgferry_clients_waiting", "pgferry_clients_idle", "pgferry_backends_active",
                "pgferry_backends_idle", "pgferry_backends_connecting", "pgferry_backends_being_canceled",
                "pgferry_backends_total", "pgferry_pool_max_wait_seconds", "pgferry_lease_wait_seconds", "pgferry_received_bytes_total",
                "pgferry_sent_bytes_total", "pgferry_logins_total", "pgferry_login_failures_total",
                "pgferry_protocol_errors_total", "pgferry_pinned_sessions_total", "pgferry_pool_timeouts_total",
                "pgferry_idle_transaction_timeouts_total", "pgferry_client_idle_timeouts_total",
                "pgferry_backend_connect_errors_total", "pgferry_backend_reserve_opened_total",
                "pgferry_client_connections", "pgferry_pools"}) {
            assertThat(after.hasHelp(name)).as("# HELP for %s", name).isTrue();
        }
    }

    @Test
    void clientGaugesSeeAClientInsideATransaction() throws Exception {
        Map<String, String> pool = Map.of("database", "postgres", "user", "plain_u");
        try (Connection c = ThroughPgferry.connect(port, "plain_u", "plain_pw", "postgres", true);
                Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("select 1");
            // the tally behind the client gauges is at most half a second old
            assertThat(ThroughPgferry.eventually(java.time.Duration.ofSeconds(3),
                    () -> scrape().value("pgferry_clients_active", pool) == 1)).isTrue();
            assertThat(scrape().value("pgferry_backends_active", pool)).isEqualTo(1);
            c.commit();
            assertThat(ThroughPgferry.eventually(java.time.Duration.ofSeconds(3),
                    () -> scrape().value("pgferry_clients_idle", pool) == 1)).isTrue();
        }
    }

    @Test
    void loginFailuresAreCounted() throws Exception {
        double before = orZero(scrape().value("pgferry_login_failures_total", Map.of()));
        try (Connection c = ThroughPgferry.connect(port, "plain_u", "wrong", "postgres", true)) {
            throw new AssertionError("logged in with a wrong password");
        } catch (SQLException expected) {
            assertThat(expected.getSQLState()).isEqualTo("28P01");
        }
        assertThat(scrape().value("pgferry_login_failures_total", Map.of())).isGreaterThanOrEqualTo(before + 1);
    }
}
