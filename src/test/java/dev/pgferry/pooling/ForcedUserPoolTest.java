package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.observability.PrometheusText;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;

/**
 * A database with a forced user ({@code pgferry.databases."shared".user=plain_u}, PgBouncer's {@code [databases]
 * shared = ... user=plain_u}) has one pool, as PgBouncer's finish_set_pool takes {@code get_pool(db,
 * db->forced_user_credentials)}: clients logged in as scram_u and md5_u share its pool_size of 2, so the server never
 * sees more than 2 backends of plain_u (watched in pg_stat_activity). SHOW POOLS and SHOW SERVERS show the pool's
 * user, plain_u; SHOW CLIENTS and SHOW USERS' client counts the user each client logged in as.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ForcedUserPoolTest.SharedPool.class)
class ForcedUserPoolTest {
    static final String DB = "shared";
    static final String SERVER_DB = "postgres";
    static final String FORCED = "plain_u";

    public static class SharedPool implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // no password in the entry: plain_u's plaintext one in the users file logs the backends in
            return Map.of(
                    "pgferry.databases.\"" + DB + "\".dbname", SERVER_DB,
                    "pgferry.databases.\"" + DB + "\".user", FORCED,
                    "pgferry.databases.\"" + DB + "\".pool-size", "2",
                    "pgferry.pool.mode", "transaction",
                    "pgferry.pool.reserve-size", "0",
                    "pgferry.pool.query-wait-timeout", "30s",
                    "pgferry.auth.type", "md5");
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    @Timeout(90)
    void clientsOfDifferentUsersShareTheForcedUsersPoolSize() throws Exception {
        try (Connection d = Clients.direct(SERVER_DB); Connection admin = ThroughPgferry.admin(port)) {
            String since = one(d, "select now()::text");
            try (Connection a = Clients.proxy(port, "scram_u", DB); Connection b = Clients.proxy(port, "md5_u", DB);
                    Connection c = Clients.proxy(port, "md5_u", DB)) {
                // the server sees the forced user, and the client is told so (session_authorization), as on PgBouncer
                assertThat(one(b, "select current_user")).isEqualTo(FORCED);
                assertThat(((PGConnection) b).getParameterStatus("session_authorization")).isEqualTo(FORCED);
                assertThat(((PGConnection) a).getParameterStatus("session_authorization")).isEqualTo(FORCED);
                a.setAutoCommit(false);
                b.setAutoCommit(false);
                int pidOfA = Integer.parseInt(one(a, "select pg_backend_pid()"));
                int pidOfB = Integer.parseInt(one(b, "select pg_backend_pid()"));
                assertThat(pidOfB).as("a and b each hold a backend").isNotEqualTo(pidOfA);
                // c is md5_u's second client: with a pool per client user it would get a backend of its own
                CompletableFuture<String> waiting = query(c, "select pg_backend_pid()");
                Thread.sleep(700);
                assertThat(waiting).as("c, while scram_u and md5_u hold the pool's 2 backends").isNotDone();
                assertThat(backends(d, since)).as("plain_u's backends on the server")
                        .containsExactlyInAnyOrder(pidOfA, pidOfB);

                List<Map<String, String>> pools = AdminConsoleRows.rows(admin, "SHOW POOLS").stream()
                        .filter(r -> r.get("database").equals(DB)).toList();
                assertThat(pools).as("SHOW POOLS of " + DB).hasSize(1);
                assertThat(pools.get(0)).containsEntry("user", FORCED).containsEntry("cl_active", "2")
                        .containsEntry("cl_waiting", "1").containsEntry("sv_active", "2");
                List<Map<String, String>> servers = AdminConsoleRows.rows(admin, "SHOW SERVERS").stream()
                        .filter(r -> r.get("database").equals(DB)).toList();
                assertThat(servers).extracting(r -> r.get("user")).containsExactly(FORCED, FORCED);
                List<Map<String, String>> clients = AdminConsoleRows.rows(admin, "SHOW CLIENTS").stream()
                        .filter(r -> r.get("database").equals(DB)).toList();
                assertThat(clients).as("SHOW CLIENTS: each client's login user, as PgBouncer's")
                        .extracting(r -> r.get("user") + " " + r.get("state"))
                        .containsExactlyInAnyOrder("scram_u active", "md5_u active", "md5_u waiting");
                Map<String, Map<String, String>> users = new java.util.HashMap<>();
                AdminConsoleRows.rows(admin, "SHOW USERS").forEach(r -> users.put(r.get("name"), r));
                assertThat(users.get("scram_u")).containsEntry("current_client_connections", "1")
                        .containsEntry("current_connections", "0");
                assertThat(users.get("md5_u")).containsEntry("current_client_connections", "2")
                        .containsEntry("current_connections", "0");
                assertThat(users.get(FORCED)).containsEntry("current_client_connections", "0")
                        .containsEntry("current_connections", "2");
                // the pool's meters carry the pool's user, as SHOW POOLS does
                assertThat(metric("pgferry_clients_waiting", FORCED)).isEqualTo(1);
                assertThat(metric("pgferry_clients_waiting", "md5_u")).isNaN();

                a.commit(); // gives back its backend: c is served on it
                assertThat(Integer.parseInt(waiting.get(10, TimeUnit.SECONDS))).isEqualTo(pidOfA);
                b.commit();
                assertThat(backends(d, since)).containsExactlyInAnyOrder(pidOfA, pidOfB);
            }
        }
    }

    /** plain_u's backends on the server database started since {@code since} (none of an earlier test's pgferry). */
    private static List<Integer> backends(Connection direct, String since) throws SQLException {
        List<Integer> pids = new ArrayList<>();
        try (PreparedStatement st = direct.prepareStatement("select pid from pg_stat_activity where usename = ?"
                + " and datname = ? and backend_start >= ?::timestamptz order by pid")) {
            st.setString(1, FORCED);
            st.setString(2, SERVER_DB);
            st.setString(3, since);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
        }
        return pids;
    }

    private static CompletableFuture<String> query(Connection c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return one(c, sql);
            } catch (SQLException e) {
                return "error " + e.getSQLState() + ": " + e.getMessage();
            }
        });
    }

    private static double metric(String name, String user) {
        String text = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        return new PrometheusText(text).value(name, Map.of("database", DB, "user", user));
    }
}
