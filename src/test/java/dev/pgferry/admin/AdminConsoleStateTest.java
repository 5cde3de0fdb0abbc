package dev.pgferry.admin;

import static dev.pgferry.admin.AdminConsoleRows.pool;
import static dev.pgferry.admin.AdminConsoleRows.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.observability.ThroughPgferry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the admin console shows while clients work, compared with what PgBouncer's shows: SHOW STATS moving by
 * exactly the transactions, queries and bytes relayed, SHOW CLIENTS and SHOW SERVERS states as a client goes from
 * idle to holding the only backend while another waits for it, and RELOAD of a changed users file.
 */
@QuarkusTest
@WithTestResource(PrivateUsersFileResource.class)
@TestProfile(SmallPoolProfile.class)
class AdminConsoleStateTest {
    private static final int PORT = SmallPoolProfile.PG_PORT;

    /** A simple-protocol "select 1": Query 'Q' + length + the text and its NUL. */
    private static final int SELECT_1_QUERY_BYTES = 1 + 4 + "select 1".length() + 1;
    /**
     * What PostgreSQL answers it: RowDescription of one column "?column?" (1 + 4 + 2 + 9 + 18), DataRow "1"
     * (1 + 4 + 2 + 4 + 1), CommandComplete "SELECT 1" (1 + 4 + 9), ReadyForQuery (6).
     */
    private static final int SELECT_1_ANSWER_BYTES = 34 + 12 + 14 + 6;

    @Test
    void showStatsMovesByEachTransactionQueryAndByteOfAutocommitStatements() throws Exception {
        try (Connection admin = admin(); Connection c = connect("scram_u", "bench", true);
                Statement st = c.createStatement()) {
            st.execute("select 1"); // the pool exists
            Map<String, Long> before = stats(admin, "bench");
            for (int i = 0; i < 5; i++) {
                try (ResultSet rs = st.executeQuery("select 1")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            Map<String, Long> d = delta(before, stats(admin, "bench"));
            assertThat(d).containsEntry("total_xact_count", 5L).containsEntry("total_query_count", 5L)
                    .containsEntry("total_server_assignment_count", 5L)
                    .containsEntry("total_received", 5L * SELECT_1_QUERY_BYTES)
                    .containsEntry("total_sent", 5L * SELECT_1_ANSWER_BYTES)
                    .containsEntry("total_pool_timeouts", 0L).containsEntry("total_connect_errors", 0L);
        }
    }

    @Test
    void showStatsCountsAnExplicitTransactionOnceAndEachOfItsStatements() throws Exception {
        try (Connection admin = admin(); Connection c = connect("scram_u", "bench", true);
                Statement st = c.createStatement()) {
            st.execute("select 1");
            Map<String, Long> before = stats(admin, "bench");
            st.execute("begin");
            st.execute("select 1");
            st.execute("select 2");
            st.execute("select 3");
            st.execute("commit");
            Map<String, Long> d = delta(before, stats(admin, "bench"));
            assertThat(d).containsEntry("total_xact_count", 1L).containsEntry("total_query_count", 5L)
                    .containsEntry("total_server_assignment_count", 1L);
        }
    }

    @Test
    void showStatsCountsExtendedProtocolStatementsAsQueries() throws Exception {
        // PgBouncer counts a query at each ReadyForQuery: a Parse/Bind/Execute/Sync statement is one, as a Query is
        try (Connection admin = admin(); Connection c = connect("scram_u", "bench", false);
                PreparedStatement ps = c.prepareStatement("select ?")) {
            ps.setInt(1, 0);
            ps.executeQuery().close();
            Map<String, Long> before = stats(admin, "bench");
            for (int i = 0; i < 4; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                }
            }
            Map<String, Long> d = delta(before, stats(admin, "bench"));
            assertThat(d).containsEntry("total_xact_count", 4L).containsEntry("total_query_count", 4L)
                    .containsEntry("total_server_assignment_count", 4L);
        }
    }

    @Test
    void showStatsCountsTransactionsOfASessionModeClientWhileItStaysConnected() throws Exception {
        try (Connection admin = admin(); Connection c = connect("scram_u", "sessiondb", true);
                Statement st = c.createStatement()) {
            st.execute("select 1");
            Map<String, Long> before = stats(admin, "sessiondb");
            for (int i = 0; i < 3; i++) {
                st.execute("select 1");
            }
            Map<String, Long> d = delta(before, stats(admin, "sessiondb"));
            assertThat(d).containsEntry("total_xact_count", 3L).containsEntry("total_query_count", 3L)
                    .as("a session-mode client keeps its backend: no new assignment")
                    .containsEntry("total_server_assignment_count", 0L);
        }
    }

    @Test
    void showStatsHasPgBouncersColumns() throws Exception {
        try (Connection admin = admin(); Statement st = admin.createStatement();
                ResultSet rs = st.executeQuery("SHOW STATS")) {
            List<String> columns = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                columns.add(rs.getMetaData().getColumnName(i));
            }
            assertThat(columns).containsExactly("database", "total_server_assignment_count", "total_xact_count",
                    "total_query_count", "total_received", "total_sent", "total_wait_time", "total_pool_timeouts",
                    "total_connect_errors");
        }
    }

    @Test
    void clientsAndServersShowIdleThenActiveThenAClientWaitingForTheOnlyBackend() throws Exception {
        try (Connection admin = admin(); Connection a = connect("scram_u", "bench", true)) {
            one(a, "select 1");
            Map<String, String> aIdle = single(clientsOf(admin, "scram_u", "bench"));
            assertThat(aIdle.get("state")).isEqualTo("idle");
            assertThat(aIdle.get("link")).isNull();
            assertThat(aIdle.get("type")).isEqualTo("C");
            assertThat(aIdle.get("addr")).isEqualTo("127.0.0.1");
            assertThat(Integer.parseInt(aIdle.get("port"))).isPositive();
            assertThat(aIdle.get("connect_time")).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC");
            Map<String, String> sIdle = single(serversOf(admin, "scram_u", "bench"));
            assertThat(sIdle.get("state")).isEqualTo("idle");
            assertThat(sIdle.get("link")).isNull();
            assertThat(sIdle.get("type")).isEqualTo("S");
            assertThat(Integer.parseInt(sIdle.get("remote_pid"))).isPositive();

            a.setAutoCommit(false);
            one(a, "select 1"); // BEGIN; SELECT 1: A holds the only backend
            Map<String, String> aActive = single(clientsOf(admin, "scram_u", "bench"));
            assertThat(aActive.get("state")).isEqualTo("active");
            assertThat(aActive.get("link")).isEqualTo(sIdle.get("id"));
            Map<String, String> sActive = single(serversOf(admin, "scram_u", "bench"));
            assertThat(sActive.get("state")).isEqualTo("active");
            assertThat(sActive.get("link")).isEqualTo(aActive.get("id"));
            assertThat(sActive.get("remote_pid")).isEqualTo(sIdle.get("remote_pid"));

            CompletableFuture<String> b = CompletableFuture.supplyAsync(() -> {
                try (Connection c = connect("scram_u", "bench", true)) {
                    return one(c, "select 42");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(5),
                    () -> clientsOf(admin, "scram_u", "bench").size() == 2
                            && "waiting".equals(clientsOf(admin, "scram_u", "bench").get(1).get("state"))))
                    .as("B waits for the backend A holds").isTrue();
            List<Map<String, String>> clients = clientsOf(admin, "scram_u", "bench");
            assertThat(clients.get(0).get("state")).isEqualTo("active");
            assertThat(clients.get(1).get("link")).isNull();
            Thread.sleep(600); // SHOW POOLS's client tally is reused for up to half a second
            Map<String, String> p = pool(admin, "bench", "scram_u");
            assertThat(p).containsEntry("cl_waiting", "1").containsEntry("sv_active", "1")
                    .containsEntry("sv_idle", "0");
            assertThat(Long.parseLong(p.get("maxwait")) * 1_000_000 + Long.parseLong(p.get("maxwait_us")))
                    .as("B has waited at least half a second").isGreaterThanOrEqualTo(500_000);
            assertThat(b).isNotDone();

            a.commit();
            assertThat(b.get(5, TimeUnit.SECONDS)).isEqualTo("42");
            // B closed its connection as it returned; pgferry reads its Terminate a moment later
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(5),
                    () -> clientsOf(admin, "scram_u", "bench").size() == 1)).as("B has left").isTrue();
            Map<String, String> aAfter = single(clientsOf(admin, "scram_u", "bench"));
            assertThat(aAfter.get("state")).isEqualTo("idle");
            Map<String, String> sAfter = single(serversOf(admin, "scram_u", "bench"));
            assertThat(sAfter.get("state")).isEqualTo("idle");
            assertThat(sAfter.get("remote_pid")).isEqualTo(sIdle.get("remote_pid"));
        }
    }

    @Test
    void reloadLetsANewUserInRefusesARemovedOneAndKeepsItsOpenConnection() throws Exception {
        try (Connection admin = admin(); Connection md5 = connect("md5_u", "bench", true)) {
            assertThat(one(md5, "select 1")).isEqualTo("1");
            assertThatThrownBy(() -> connect("plain_u", "bench", true).close())
                    .as("plain_u is not in the users file yet")
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));

            List<String> lines = new ArrayList<>(PrivateUsersFileResource.initialLines());
            lines.removeIf(l -> l.startsWith("\"md5_u\""));
            lines.add(PrivateUsersFileResource.fixtureLine("plain_u"));
            Files.write(PrivateUsersFileResource.FILE, lines);
            try {
                assertThat(command(admin, "RELOAD")).singleElement().asString()
                        .contains("reloaded", PrivateUsersFileResource.FILE.toString(),
                                (lines.size()) + " users");

                try (Connection plain = connect("plain_u", "bench", true)) {
                    assertThat(one(plain, "select current_user")).isEqualTo("plain_u");
                }
                assertThatThrownBy(() -> connect("md5_u", "bench", true).close())
                        .as("md5_u was removed")
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("28P01");
                            assertThat(e.getMessage()).contains("password authentication failed for user \"md5_u\"");
                        });
                assertThat(one(md5, "select current_user")).as("md5_u's open connection is untouched")
                        .isEqualTo("md5_u");
            } finally {
                Files.write(PrivateUsersFileResource.FILE, PrivateUsersFileResource.initialLines());
                command(admin, "RELOAD");
            }
        }
    }

    // --- helpers ---

    private static Connection connect(String user, String database, boolean simpleProtocol) throws SQLException {
        String password = Map.of("postgres", "secret", "scram_u", "scram_pw", "md5_u", "md5_pw", "plain_u",
                "plain_pw").get(user);
        return ThroughPgferry.connect(PORT, user, password, database, simpleProtocol);
    }

    private static Connection admin() throws SQLException {
        return ThroughPgferry.admin(PORT);
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The NOTICEs of an admin command. */
    private static List<String> command(Connection admin, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = admin.createStatement()) {
            st.execute(sql);
            for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
                out.add(w.getMessage());
            }
        }
        return out;
    }

    private static Map<String, Long> stats(Connection admin, String database) throws SQLException {
        Map<String, String> row = rows(admin, "SHOW STATS").stream().filter(r -> r.get("database").equals(database))
                .findFirst().orElseThrow(() -> new AssertionError("no SHOW STATS row for " + database));
        Map<String, Long> out = new java.util.TreeMap<>();
        row.forEach((k, v) -> {
            if (!k.equals("database")) {
                out.put(k, Long.parseLong(v));
            }
        });
        return out;
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new java.util.TreeMap<>();
        after.forEach((k, v) -> d.put(k, v - before.get(k)));
        return d;
    }

    /** SHOW CLIENTS rows of (user, database), oldest connection first. */
    private static List<Map<String, String>> clientsOf(Connection admin, String user, String database) {
        try {
            return rows(admin, "SHOW CLIENTS").stream()
                    .filter(r -> r.get("user").equals(user) && r.get("database").equals(database)).toList();
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }

    private static List<Map<String, String>> serversOf(Connection admin, String user, String database)
            throws SQLException {
        return rows(admin, "SHOW SERVERS").stream()
                .filter(r -> r.get("user").equals(user) && r.get("database").equals(database)).toList();
    }

    private static Map<String, String> single(List<Map<String, String>> rows) {
        assertThat(rows).hasSize(1);
        return rows.get(0);
    }
}
