package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The LISTEN fan-out where it meets the rest of PostgreSQL's behaviour: {@code pg_listening_channels()} of a client
 * whose channels are on the listener, the window between a client's LISTEN commit and the listener's own, and the
 * listener connection's life. A client listening straight on the server is the reference.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ListenFanoutProfile.class)
class ListenFanoutLeftoversTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = ListenFanoutTest.USER;
    static final String DB = ListenFanoutTest.DB;

    private Connection proxy() throws SQLException {
        return Clients.proxy(port, USER, DB);
    }

    private static Connection directAsUser() throws SQLException {
        return dev.pgferry.testing.PostgresFixture.get().connect(USER, Clients.PASSWORDS.get(USER), DB);
    }

    private static void exec(Connection c, String... sqls) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String sql : sqls) {
                st.execute(sql);
            }
        }
    }

    private static List<String> channels(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_listening_channels() as ch order by 1")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** "channel|payload" of the notifications {@code c} receives within {@code wait}, until {@code n} came. */
    private static List<String> receive(Connection c, int n, Duration wait) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        List<String> got = new ArrayList<>();
        long deadline = System.nanoTime() + wait.toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            PGNotification[] ns = pg.getNotifications(100);
            if (ns != null) {
                for (PGNotification x : ns) {
                    got.add(x.getName() + "|" + x.getParameter());
                }
            }
        }
        return got;
    }

    /**
     * pgjdbc runs a PreparedStatement as a named server statement from its fifth execution on (prepareThreshold 5,
     * the default): the LISTEN then comes as Bind and Execute only, with no Parse. After an UNLISTEN, running it again
     * must subscribe the fan-out before the LISTEN can commit too, or a notification committed right after is lost.
     */
    @Test
    @Timeout(180)
    void aPreparedListenRunAgainAfterAnUnlistenMissesNothing() throws Exception {
        Clients.directExec(DB, "create table if not exists listen_ready(id int primary key)",
                "grant all on listen_ready to " + USER, "delete from listen_ready where id >= 5000");
        try (Connection a = proxy(); Connection watcher = directAsUser();
                var listen = a.prepareStatement("LISTEN ready_prepared");
                var insert = a.prepareStatement("INSERT INTO listen_ready VALUES (?)")) {
            for (int i = 0; i < 30; i++) {
                int id = 5000 + i;
                var notified = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try (var ps = watcher.prepareStatement("select count(*) from listen_ready where id = ?")) {
                        ps.setInt(1, id);
                        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                        while (System.nanoTime() < deadline) {
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                if (rs.getInt(1) == 1) {
                                    exec(watcher, "NOTIFY ready_prepared, '" + id + "'");
                                    return;
                                }
                            }
                        }
                        throw new IllegalStateException("row " + id + " never seen");
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                a.setAutoCommit(false);
                listen.execute();
                insert.setInt(1, id);
                insert.executeUpdate();
                a.commit();
                a.setAutoCommit(true);
                notified.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(receive(a, 1, Duration.ofSeconds(5))).as("round %d", i)
                        .containsExactly("ready_prepared|" + id);
                exec(a, "UNLISTEN ready_prepared");
            }
        }
    }

    @Test
    @Timeout(60)
    void pgListeningChannelsOfAFannedOutClientIsThatOfADirectOneAndNothingIsDeliveredTwice() throws Exception {
        try (Connection a = proxy(); Connection reference = directAsUser(); Connection notifier = proxy()) {
            for (Connection c : List.of(a, reference)) {
                exec(c, "LISTEN plc_one", "LISTEN \"Plc Two\"");
            }
            // at rest: the backend LISTENs on the fan-out's channels before it answers
            assertThat(channels(a)).as("pgferry").isEqualTo(channels(reference))
                    .containsExactly("Plc Two", "plc_one");
            exec(notifier, "NOTIFY plc_one, 'n1'", "NOTIFY \"Plc Two\", 'n2'");
            List<String> expected = List.of("plc_one|n1", "Plc Two|n2");
            assertThat(receive(reference, 2, Duration.ofSeconds(5))).isEqualTo(expected);
            assertThat(receive(a, 2, Duration.ofSeconds(5))).as("once each").isEqualTo(expected);
            assertThat(receive(a, 1, Duration.ofMillis(500))).as("no second copy").isEmpty();
            // pinned now: LISTEN and UNLISTEN run on its backend, and the answer follows them
            for (Connection c : List.of(a, reference)) {
                exec(c, "UNLISTEN plc_one", "LISTEN plc_three", "LISTEN \"Plc Two\"");
            }
            assertThat(channels(a)).isEqualTo(channels(reference)).containsExactly("Plc Two", "plc_three");
            exec(notifier, "NOTIFY plc_one, 'gone'", "NOTIFY \"Plc Two\", 'n3'", "NOTIFY plc_three, 'n4'");
            expected = List.of("Plc Two|n3", "plc_three|n4");
            assertThat(receive(reference, 2, Duration.ofSeconds(5))).isEqualTo(expected);
            // per channel in order, as PostgreSQL promises; one comes from the fan-out, the other from the backend
            assertThat(receive(a, 2, Duration.ofSeconds(5))).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(receive(a, 1, Duration.ofMillis(500))).isEmpty();
            for (Connection c : List.of(a, reference)) {
                exec(c, "UNLISTEN *");
            }
            assertThat(channels(a)).isEqualTo(channels(reference)).isEmpty();
        }
    }

    @Test
    @Timeout(60)
    void pgListeningChannelsInsideATransactionIsExactFromTheNextOne() throws Exception {
        try (Connection a = proxy(); Connection reference = directAsUser(); Connection notifier = proxy()) {
            for (Connection c : List.of(a, reference)) {
                exec(c, "LISTEN plt_one");
                c.setAutoCommit(false);
                exec(c, "select 1");
            }
            // inside a transaction a LISTEN of pgferry's would only count at its commit: this answer lacks it (logged)
            assertThat(channels(reference)).containsExactly("plt_one");
            channels(a);
            a.commit();
            reference.commit();
            assertThat(channels(a)).isEqualTo(channels(reference)).containsExactly("plt_one");
            a.commit();
            reference.commit();
            a.setAutoCommit(true);
            exec(notifier, "NOTIFY plt_one, 'x'");
            assertThat(receive(a, 2, Duration.ofSeconds(3))).containsExactly("plt_one|x");
        }
    }

    /**
     * The window between a client's LISTEN commit and the listener's: PostgreSQL delivers every notification committed
     * after the LISTEN's transaction commits. Here another session waits to see the client's row, which commits with
     * the LISTEN, and NOTIFYs at once; repeated on a new channel each time (so the listener must LISTEN anew), it
     * would fall between the two commits now and then.
     */
    @Test
    @Timeout(180)
    void aNotificationCommittedRightAfterTheListenCommitsIsDelivered() throws Exception {
        Clients.directExec(DB, "create table if not exists listen_ready(id int primary key)",
                "grant all on listen_ready to " + USER, "truncate listen_ready");
        int rounds = 50;
        try (Connection a = proxy(); Connection simple = Clients.proxy(port, USER, DB, "preferQueryMode", "simple");
                Connection reference = directAsUser(); Connection watcher = directAsUser()) {
            for (int i = 0; i < rounds; i++) {
                // pgjdbc's extended protocol (Parse, Bind, Execute, Sync) and its simple Query mode
                List<Connection> clients = i < 5 ? List.of(reference, a, simple) : i % 3 == 0 ? List.of(a, simple)
                        : List.of(a);
                for (Connection c : clients) {
                    int id = c == a ? i : c == simple ? 2000 + i : 1000 + i;
                    String channel = "ready_" + id;
                    var notified = java.util.concurrent.CompletableFuture.runAsync(() -> {
                        try (var ps = watcher.prepareStatement("select count(*) from listen_ready where id = ?")) {
                            ps.setInt(1, id);
                            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                            while (System.nanoTime() < deadline) {
                                try (ResultSet rs = ps.executeQuery()) {
                                    rs.next();
                                    if (rs.getInt(1) == 1) {
                                        exec(watcher, "NOTIFY " + channel + ", '" + id + "'");
                                        return;
                                    }
                                }
                            }
                            throw new IllegalStateException("row " + id + " never seen");
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    c.setAutoCommit(false);
                    exec(c, "LISTEN " + channel, "INSERT INTO listen_ready VALUES (" + id + ")");
                    c.commit();
                    c.setAutoCommit(true);
                    notified.get(30, java.util.concurrent.TimeUnit.SECONDS);
                    assertThat(receive(c, 1, Duration.ofSeconds(5))).as("%s, round %d",
                            c == reference ? "direct" : c == a ? "pgferry" : "pgferry, simple", i)
                            .containsExactly(channel + "|" + id);
                    exec(c, "UNLISTEN " + channel);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void aListenThatRollsBackAfterTheListenerSubscribedDeliversNothing() throws Exception {
        try (Connection a = proxy(); Connection notifier = directAsUser()) {
            a.setAutoCommit(false);
            exec(a, "LISTEN rb_ahead");
            exec(notifier, "NOTIFY rb_ahead, 'during'");
            Thread.sleep(200);
            a.rollback();
            exec(notifier, "NOTIFY rb_ahead, 'after'");
            a.setAutoCommit(true);
            assertThat(receive(a, 1, Duration.ofMillis(800))).isEmpty();
            exec(a, "LISTEN rb_ahead");
            exec(notifier, "NOTIFY rb_ahead, 'subscribed'");
            assertThat(receive(a, 2, Duration.ofSeconds(2))).containsExactly("rb_ahead|subscribed");
        }
    }

    /** SHOW LISTENERS' row of database bench, column to value; empty if none. */
    private java.util.Map<String, String> listenerRow() throws SQLException {
        try (Connection admin = dev.pgferry.observability.ThroughPgferry.admin(port); Statement st = admin.createStatement();
                ResultSet rs = st.executeQuery("SHOW LISTENERS")) {
            var md = rs.getMetaData();
            while (rs.next()) {
                if (DB.equals(rs.getString("database"))) {
                    java.util.Map<String, String> row = new java.util.LinkedHashMap<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        row.put(md.getColumnName(i), rs.getString(i));
                    }
                    return row;
                }
            }
        }
        return java.util.Map.of();
    }

    private static String listenerPids(Connection direct) throws SQLException {
        return Clients.one(direct, "select coalesce(string_agg(pid::text, ','), '') from pg_stat_activity"
                + " where application_name = '" + ListenFanoutTest.LISTENER_APP + "' and datname = '" + DB + "'");
    }

    @Test
    @Timeout(90)
    void theListenerConnectionClosesAfterItsLastChannelGoesAndShowListenersShowsIt() throws Exception {
        try (Connection a = proxy(); Connection b = proxy(); Connection notifier = proxy();
                Connection direct = Clients.direct("postgres")) {
            exec(a, "LISTEN idle_one");
            exec(b, "LISTEN idle_one", "LISTEN idle_two");
            String pid = listenerPids(direct);
            assertThat(pid).as("one listener backend").matches("[0-9]+");
            var row = Clients.await(Duration.ofSeconds(10), this::listenerRow,
                    r -> "2".equals(r.get("channels")) && "2".equals(r.get("subscribers")));
            assertThat(row).containsEntry("user", USER).containsEntry("state", "open").containsEntry("pid", pid)
                    .containsEntry("channels", "2").containsEntry("subscribers", "2");
            // the last channel goes, and one comes back within the grace: the same connection serves it
            exec(a, "UNLISTEN *");
            exec(b, "UNLISTEN *");
            exec(b, "LISTEN idle_two");
            assertThat(listenerPids(direct)).isEqualTo(pid);
            row = Clients.await(Duration.ofSeconds(10), this::listenerRow, r -> "1".equals(r.get("channels")));
            assertThat(row).containsEntry("pid", pid).containsEntry("channels", "1").containsEntry("subscribers", "1");
            // gone for good: closed after pgferry.notify.listener-idle-timeout (5s)
            exec(b, "UNLISTEN idle_two");
            assertThat(Clients.await(Duration.ofSeconds(20), () -> listenerPids(direct), String::isEmpty))
                    .as("pg_stat_activity shows no pgferry listener").isEmpty();
            assertThat(listenerRow()).containsEntry("state", "closed").containsEntry("pid", "0")
                    .containsEntry("channels", "0").containsEntry("subscribers", "0");
            // and the next LISTEN opens it again
            exec(b, "LISTEN idle_two");
            assertThat(listenerPids(direct)).matches("[0-9]+").isNotEqualTo(pid);
            exec(notifier, "NOTIFY idle_two, 'back'");
            assertThat(receive(b, 1, Duration.ofSeconds(5))).containsExactly("idle_two|back");
        }
    }
}
