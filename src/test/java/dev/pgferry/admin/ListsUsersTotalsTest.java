package dev.pgferry.admin;

import static dev.pgferry.admin.AdminConsoleRows.rows;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.devservice.DbUser;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** SHOW USERS, SHOW LISTS and SHOW TOTALS with PgBouncer's columns and rows, checked against the other SHOW commands. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(DatabaseCommandsProfile.class)
class ListsUsersTotalsTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    void showUsersListsEachUserOfTheUsersFileWithPgBouncersNotSetValuesAndItsCounts() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port);
                Connection client = ThroughPgferry.connect(port, "scram_u", "scram_pw", "bench", true)) {
            client.setAutoCommit(false);
            one(client, "select 1"); // holds its backend: a transaction is open
            assertThat(columns(admin, "SHOW USERS")).containsExactly("name", "pool_size", "reserve_pool_size",
                    "pool_mode", "max_user_connections", "current_connections", "max_user_client_connections",
                    "current_client_connections");
            List<Map<String, String>> users = rows(admin, "SHOW USERS");
            assertThat(users).extracting(r -> r.get("name")).as("the users file's entries, by name")
                    .containsExactlyElementsOf(PostgresFixture.get().users().stream().map(DbUser::name).sorted()
                            .toList());
            Map<String, String> scram = users.stream().filter(r -> r.get("name").equals("scram_u")).findFirst()
                    .orElseThrow();
            // PgBouncer's values for a user without settings of its own: empty sizes, NULL mode, the global limit
            assertThat(scram).containsEntry("pool_size", "").containsEntry("reserve_pool_size", "")
                    .containsEntry("pool_mode", null).containsEntry("max_user_connections", "0")
                    .containsEntry("max_user_client_connections", "0");
            long servers = rows(admin, "SHOW SERVERS").stream().filter(r -> r.get("user").equals("scram_u")).count();
            long clients = rows(admin, "SHOW CLIENTS").stream().filter(r -> r.get("user").equals("scram_u")).count();
            assertThat(servers).isGreaterThanOrEqualTo(1);
            assertThat(scram.get("current_connections")).isEqualTo(Long.toString(servers));
            assertThat(scram.get("current_client_connections")).isEqualTo(Long.toString(clients)).isEqualTo("1");
            client.commit();
        }
    }

    @Test
    void showListsHasPgBouncersRowsCountedAsTheOtherShowCommandsCount() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port);
                Connection client = ThroughPgferry.connect(port, "scram_u", "scram_pw", "bench", true)) {
            one(client, "select 1");
            assertThat(columns(admin, "SHOW LISTS")).containsExactly("list", "items");
            List<Map<String, String>> lists = rows(admin, "SHOW LISTS");
            assertThat(lists).extracting(r -> r.get("list")).containsExactly("databases", "users", "peers", "pools",
                    "peer_pools", "free_clients", "used_clients", "login_clients", "free_servers", "used_servers",
                    "dns_names", "dns_zones", "dns_queries", "dns_pending");
            Map<String, String> items = new java.util.HashMap<>();
            lists.forEach(r -> items.put(r.get("list"), r.get("items")));
            assertThat(items.get("databases")).isEqualTo(size(admin, "SHOW DATABASES"));
            assertThat(items.get("users")).isEqualTo(size(admin, "SHOW USERS"));
            assertThat(items.get("pools")).isEqualTo(size(admin, "SHOW POOLS"));
            assertThat(items.get("used_servers")).isEqualTo(size(admin, "SHOW SERVERS"));
            String consoles = rows(admin, "SHOW DATABASES").stream().filter(r -> r.get("name").equals("pgferry"))
                    .findFirst().orElseThrow().get("current_client_connections");
            assertThat(Integer.parseInt(items.get("used_clients"))).as("clients and console connections")
                    .isEqualTo(Integer.parseInt(size(admin, "SHOW CLIENTS")) + Integer.parseInt(consoles))
                    .isGreaterThanOrEqualTo(2);
            assertThat(items).containsEntry("login_clients", "0").containsEntry("peers", "0")
                    .containsEntry("peer_pools", "0").containsEntry("free_clients", "0")
                    .containsEntry("free_servers", "0").containsEntry("dns_names", "0")
                    .containsEntry("dns_zones", "0").containsEntry("dns_queries", "0")
                    .containsEntry("dns_pending", "0");
        }
    }

    @Test
    void showTotalsSumsShowStatsOverEveryDatabase() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port);
                Connection bench = ThroughPgferry.connect(port, "scram_u", "scram_pw", "bench", true);
                Connection postgres = ThroughPgferry.connect(port, "postgres", "secret", "postgres", true)) {
            one(bench, "select 1");
            one(postgres, "select repeat('x', 1000)");
            List<Map<String, String>> stats = rows(admin, "SHOW STATS");
            List<Map<String, String>> totals = rows(admin, "SHOW TOTALS");
            assertThat(columns(admin, "SHOW TOTALS")).containsExactly("name", "value");
            List<String> counters = List.of("server_assignment_count", "xact_count", "query_count", "client_bytes",
                    "server_bytes", "xact_time", "query_time", "wait_time", "ps_client_parse_count",
                    "ps_server_parse_count", "ps_bind_count", "client_connect_count");
            List<String> names = new ArrayList<>();
            counters.forEach(c -> names.add("total_" + c));
            counters.forEach(c -> names.add("avg_" + c));
            assertThat(totals).extracting(r -> r.get("name")).containsExactlyElementsOf(names);
            Map<String, String> t = new java.util.HashMap<>();
            totals.forEach(r -> t.put(r.get("name"), r.get("value")));
            assertThat(stats).hasSizeGreaterThanOrEqualTo(2);
            Map<String, String> fromStats = Map.of("total_server_assignment_count", "total_server_assignment_count",
                    "total_xact_count", "total_xact_count", "total_query_count", "total_query_count",
                    "total_client_bytes", "total_received", "total_server_bytes", "total_sent", "total_wait_time",
                    "total_wait_time");
            fromStats.forEach((total, column) -> assertThat(t.get(total)).as(total)
                    .isEqualTo(Long.toString(stats.stream().mapToLong(r -> Long.parseLong(r.get(column))).sum())));
            assertThat(Long.parseLong(t.get("total_server_bytes"))).isGreaterThan(1000);
            assertThat(Long.parseLong(t.get("total_client_connect_count"))).isGreaterThanOrEqualTo(2);
            for (String zero : List.of("total_xact_time", "total_query_time", "total_ps_client_parse_count",
                    "total_ps_server_parse_count", "total_ps_bind_count")) {
                assertThat(t.get(zero)).as(zero).isEqualTo("0");
            }
            counters.forEach(c -> assertThat(t.get("avg_" + c)).as("avg_" + c).isEqualTo("0"));
        }
    }

    private static String size(Connection admin, String command) throws SQLException {
        return Integer.toString(rows(admin, command).size());
    }

    private static List<String> columns(Connection admin, String command) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = admin.createStatement(); ResultSet rs = st.executeQuery(command)) {
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                out.add(rs.getMetaData().getColumnName(i));
            }
        }
        return out;
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
