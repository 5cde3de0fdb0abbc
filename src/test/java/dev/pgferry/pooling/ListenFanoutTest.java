package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
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
 * {@code pgferry.pool.listen=fanout} (the default) in transaction mode: LISTEN does not pin; one listener connection per
 * database hands the notifications to the subscribed clients, between their transactions, in order, with the sender's
 * pid. A client listening straight on the server is the reference. Pool {@code bench/md5_u} of two backends.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ListenFanoutProfile.class)
class ListenFanoutTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "md5_u";
    static final String DB = "bench";
    static final String LISTENER_APP = "pgferry listener";

    private Connection proxy() throws SQLException {
        return Clients.proxy(port, USER, DB);
    }

    /** A direct connection as {@code md5_u}: a plain PostgreSQL client, the reference. */
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

    /** "channel|payload|pid" of every notification {@code c} receives within {@code wait}, until {@code n} came. */
    private static List<String> receive(Connection c, int n, Duration wait) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        List<String> got = new ArrayList<>();
        long deadline = System.nanoTime() + wait.toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            PGNotification[] ns = pg.getNotifications(200);
            if (ns != null) {
                for (PGNotification x : ns) {
                    got.add(x.getName() + "|" + x.getParameter() + "|" + x.getPID());
                }
            }
        }
        return got;
    }

    private static List<String> receiveNone(Connection c, Duration wait) throws SQLException {
        return receive(c, Integer.MAX_VALUE, wait);
    }
    /** The pid of the backend a pgferry client's transaction runs on, and the NOTIFYs sent there. */
    private static int notifyInOneTransaction(Connection c, String... notifies) throws SQLException {
        c.setAutoCommit(false);
        int pid = Integer.parseInt(Clients.one(c, "select pg_backend_pid()"));
        exec(c, notifies);
        c.commit();
        c.setAutoCommit(true);
        return pid;
    }

    @Test
    @Timeout(180)
    void manyListenersOnAPoolOfTwoEachGetTheirChannelOnceInOrderWithTheSendersPid() throws Exception {
        int clients = 200; // the 200 listening clients
        int channels = 10;
        List<Connection> listeners = new ArrayList<>();
        try (Connection direct = Clients.direct("postgres"); Connection notifier = proxy();
                Connection reference = directAsUser(); Connection directNotifier = directAsUser()) {
            exec(reference, "LISTEN fan_3");
            for (int i = 0; i < clients; i++) {
                Connection c = proxy();
                listeners.add(c);
                exec(c, "LISTEN fan_" + (i % channels));
            }
            // none pinned: two pooled backends and the listener serve them all
            assertThat(Clients.serverBackends(direct, USER, DB))
                    .as("backends of bench/md5_u: the pool's and the listener (the reference is direct)")
                    .isLessThanOrEqualTo(ListenFanoutProfile.POOL_SIZE + 1 + 2);
            try (var rs = direct.createStatement().executeQuery("select count(*) from pg_stat_activity where"
                    + " application_name = '" + LISTENER_APP + "' and datname = '" + DB + "'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("one listener connection for the database").isEqualTo(1);
            }
            List<String> sent = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                List<String> notifies = new ArrayList<>();
                for (int ch = 0; ch < channels; ch++) {
                    notifies.add("NOTIFY fan_" + ch + ", 'p" + k + "'");
                }
                int pid = notifyInOneTransaction(notifier, notifies.toArray(String[]::new));
                for (int ch = 0; ch < channels; ch++) {
                    sent.add("fan_" + ch + "|p" + k + "|" + pid);
                }
            }
            int directPid = directNotifier.unwrap(PGConnection.class).getBackendPID();
            for (int ch = 0; ch < channels; ch++) {
                exec(directNotifier, "select pg_notify('fan_" + ch + "', 'direct')");
                sent.add("fan_" + ch + "|direct|" + directPid);
            }
            List<String> expected3 = sent.stream().filter(x -> x.startsWith("fan_3|")).toList();
            assertThat(receive(reference, expected3.size(), Duration.ofSeconds(10)))
                    .as("PostgreSQL itself, to a direct listener").containsExactlyElementsOf(expected3);
            for (int i = 0; i < clients; i++) {
                String prefix = "fan_" + (i % channels) + "|";
                List<String> expected = sent.stream().filter(x -> x.startsWith(prefix)).toList();
                List<String> got = receive(listeners.get(i), expected.size(), Duration.ofSeconds(10));
                got.addAll(receiveNone(listeners.get(i), Duration.ofMillis(i == 0 ? 500 : 0)));
                assertThat(got).as("client %d", i).containsExactlyElementsOf(expected);
            }
            // and each still runs queries through the pool, unpinned
            for (Connection c : listeners) {
                assertThat(Clients.one(c, "select 1")).isEqualTo("1");
            }
        } finally {
            for (Connection c : listeners) {
                c.close();
            }
        }
    }

    @Test
    @Timeout(60)
    void listenInARolledBackTransactionDoesNotSubscribeAndANotifyRolledBackIsNotSent() throws Exception {
        try (Connection a = proxy(); Connection b = proxy(); Connection notifier = proxy();
                Connection reference = directAsUser()) {
            a.setAutoCommit(false);
            exec(a, "LISTEN rb_chan");
            a.rollback();
            a.setAutoCommit(true);
            exec(b, "LISTEN rb_chan");
            exec(reference, "LISTEN rb_chan");
            notifier.setAutoCommit(false);
            exec(notifier, "NOTIFY rb_chan, 'rolled back'");
            notifier.rollback();
            exec(notifier, "NOTIFY rb_chan, 'committed'");
            notifier.commit();
            assertThat(receive(reference, 1, Duration.ofSeconds(5))).extracting(x -> x.split("\\|")[1])
                    .containsExactly("committed");
            assertThat(receive(b, 1, Duration.ofSeconds(5))).extracting(x -> x.split("\\|")[1])
                    .containsExactly("committed");
            assertThat(receiveNone(a, Duration.ofMillis(500))).as("its LISTEN rolled back").isEmpty();
            assertThat(receiveNone(b, Duration.ofMillis(300))).as("once").isEmpty();
        }
    }

    @Test
    @Timeout(60)
    void aListenerInsideATransactionGetsNotificationsRightAfterItEnds() throws Exception {
        try (Connection a = proxy(); Connection notifier = proxy(); Connection reference = directAsUser()) {
            exec(a, "LISTEN tx_chan");
            exec(reference, "LISTEN tx_chan");
            a.setAutoCommit(false);
            reference.setAutoCommit(false);
            exec(a, "select 1");
            exec(reference, "select 1");
            exec(notifier, "NOTIFY tx_chan, 'while busy'");
            Thread.sleep(300);
            // inside a transaction neither gets it (pgjdbc reads what arrived with the next query's answer)
            exec(a, "select 2");
            exec(reference, "select 2");
            assertThat(a.unwrap(PGConnection.class).getNotifications()).as("pgferry, inside").isNullOrEmpty();
            assertThat(reference.unwrap(PGConnection.class).getNotifications()).as("direct, inside").isNullOrEmpty();
            a.commit();
            reference.commit();
            assertThat(receive(reference, 1, Duration.ofSeconds(5))).extracting(x -> x.split("\\|")[1])
                    .containsExactly("while busy");
            assertThat(receive(a, 1, Duration.ofSeconds(5))).extracting(x -> x.split("\\|")[1])
                    .containsExactly("while busy");
        }
    }

    @Test
    @Timeout(60)
    void unlistenAndDiscardAllEndSubscriptions() throws Exception {
        try (Connection a = proxy(); Connection notifier = proxy()) {
            exec(a, "LISTEN u_one", "LISTEN u_two", "LISTEN \"U Three\"");
            exec(a, "UNLISTEN u_one");
            exec(notifier, "NOTIFY u_one, '1'", "NOTIFY u_two, '2'", "NOTIFY \"U Three\", '3'");
            assertThat(receive(a, 2, Duration.ofSeconds(5))).extracting(x -> x.split("\\|")[0] + "=" + x.split("\\|")[1])
                    .containsExactly("u_two=2", "U Three=3");
            exec(a, "UNLISTEN *");
            exec(notifier, "NOTIFY u_two, 'after unlisten *'");
            assertThat(receiveNone(a, Duration.ofMillis(500))).isEmpty();
            exec(a, "LISTEN u_two");
            exec(a, "DISCARD ALL");
            exec(notifier, "NOTIFY u_two, 'after discard all'");
            assertThat(receiveNone(a, Duration.ofMillis(500))).isEmpty();
            exec(a, "LISTEN u_two");
            exec(notifier, "NOTIFY u_two, 'again'");
            assertThat(receive(a, 1, Duration.ofSeconds(5))).extracting(x -> x.split("\\|")[1])
                    .containsExactly("again");
        }
    }

    @Test
    @Timeout(60)
    void noPooledBackendKeepsAListen() throws Exception {
        try (Connection a = proxy()) {
            exec(a, "LISTEN leak_chan");
            // every backend of the pool, held at once: none listens
            List<Connection> all = new ArrayList<>();
            try {
                for (int i = 0; i < ListenFanoutProfile.POOL_SIZE; i++) {
                    Connection c = proxy();
                    all.add(c);
                    c.setAutoCommit(false);
                    exec(c, "select 1");
                }
                try (Connection direct = Clients.direct("postgres"); Statement st = direct.createStatement();
                        var rs = st.executeQuery("select count(*) from pg_stat_activity where usename = '" + USER
                                + "' and datname = '" + DB + "' and application_name <> '" + LISTENER_APP + "'")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isLessThanOrEqualTo(ListenFanoutProfile.POOL_SIZE);
                }
                for (Connection c : all) {
                    // a client without channels of its own: the backend answers, exactly (it listens on nothing)
                    assertThat(Clients.one(c, "select count(*) from pg_listening_channels()")).isEqualTo("0");
                }
            } finally {
                for (Connection c : all) {
                    c.close();
                }
            }
        }
    }

    @Test
    @Timeout(90)
    void aLostListenerIsReopenedResubscribedAndSubscribersAreTold() throws Exception {
        try (Connection a = proxy(); Connection notifier = proxy(); Connection direct = Clients.direct("postgres")) {
            exec(a, "LISTEN lost_chan");
            exec(notifier, "NOTIFY lost_chan, 'before'");
            assertThat(receive(a, 1, Duration.ofSeconds(5))).extracting(x -> x.split("\\|")[1]).containsExactly("before");
            int killed = Integer.parseInt(Clients.one(direct, "select pid from pg_stat_activity where application_name = '"
                    + LISTENER_APP + "' and datname = '" + DB + "'"));
            assertThat(Clients.one(direct, "select pg_terminate_backend(" + killed + ")")).isEqualTo("t");
            Clients.await(Duration.ofSeconds(20), () -> Clients.one(direct, "select count(*) from pg_stat_activity"
                    + " where application_name = '" + LISTENER_APP + "' and datname = '" + DB + "' and pid <> " + killed
                    + " and query ilike 'LISTEN%'"), n -> n.equals("1"));
            exec(notifier, "NOTIFY lost_chan, 'after'");
            assertThat(receive(a, 1, Duration.ofSeconds(10))).extracting(x -> x.split("\\|")[1]).containsExactly("after");
            List<String> warnings = new ArrayList<>();
            for (SQLWarning w = a.getWarnings(); w != null; w = w.getNextWarning()) {
                warnings.add(w.getMessage());
            }
            assertThat(warnings).as("the notice that notifications may have been missed")
                    .anySatisfy(m -> assertThat(m).contains("may have been missed"));
        }
    }

    @Test
    @Timeout(60)
    void aClientThatLetsNotificationsPileUpIsClosedAtTheBound() throws Exception {
        try (Connection slow = proxy(); Connection notifier = proxy()) {
            exec(slow, "LISTEN slow_chan");
            slow.setAutoCommit(false);
            exec(slow, "select 1"); // inside a transaction: notifications wait for its end
            for (int i = 0; i <= ListenFanoutProfile.MAX_QUEUED; i++) {
                exec(notifier, "NOTIFY slow_chan, '" + i + "'");
            }
            Thread.sleep(500);
            assertThatThrownBy(() -> exec(slow, "select 2")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("pgferry.notify.max-queued = " + ListenFanoutProfile.MAX_QUEUED);
            assertThat(Clients.one(notifier, "select 1")).isEqualTo("1");
        }
    }
    /** PostgreSQL delivers a client's own NOTIFY to it when the same transaction LISTENed. */
    @Test
    @Timeout(60)
    void aClientsOwnNotifyInItsListenTransactionReachesIt() throws Exception {
        try (Connection a = proxy(); Connection reference = directAsUser()) {
            for (Connection c : List.of(a, reference)) {
                String self = c == a ? "self a" : "self reference";
                c.setAutoCommit(false);
                exec(c, "LISTEN own_chan", "NOTIFY own_chan, '" + self + "'");
                int pid = Integer.parseInt(Clients.one(c, "select pg_backend_pid()"));
                c.commit();
                c.setAutoCommit(true);
                assertThat(receive(c, 1, Duration.ofSeconds(5))).as(c == a ? "pgferry" : "direct")
                        .containsExactly("own_chan|" + self + "|" + pid);
            }
            // and the listener has the channel from now on: the reference's own NOTIFY, then one more, once each
            exec(reference, "NOTIFY own_chan, 'later'");
            assertThat(receive(a, 3, Duration.ofSeconds(3))).extracting(x -> x.split("\\|")[1])
                    .containsExactly("self reference", "later");
        }
    }
}
