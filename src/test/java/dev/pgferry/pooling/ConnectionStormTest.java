package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.admin.AdminConsoleRows;
import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 2 000 clients connecting at the same instant, each logging in with SCRAM-SHA-256 and running a query while all of
 * them are connected: every one is served, on at most the pool's 20 server sessions.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class ConnectionStormTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final int CLIENTS = 2000;
    static final String USER = "scram_u";
    static final String DB = "postgres";

    @Test
    @Timeout(240)
    void twoThousandClientsConnectingAtOnceAreAllServed() throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        PgConnectOptions options = new PgConnectOptions().setHost(Clients.HOST).setPort(port).setDatabase(DB)
                .setUser(USER).setPassword(Clients.PASSWORDS.get(USER)).setConnectTimeout(120_000);
        Map<String, Integer> failures = new ConcurrentHashMap<>();
        List<PgConnection> connected = new ArrayList<>();
        try (ManyClientsTest.BackendCounter counter = new ManyClientsTest.BackendCounter(USER, DB)) {
            // every connect is issued before the first login completes: the storm reaches pgferry at once
            List<Future<PgConnection>> logins = new ArrayList<>(CLIENTS);
            for (int i = 0; i < CLIENTS; i++) {
                logins.add(PgConnection.connect(vertx, options));
            }
            List<Future<Integer>> answers = new ArrayList<>(CLIENTS);
            for (int i = 0; i < CLIENTS; i++) {
                int id = i;
                answers.add(logins.get(i)
                        .compose(c -> c.preparedQuery("select $1::int + 1, current_user").execute(Tuple.of(id)))
                        .map(rows -> {
                            var row = rows.iterator().next();
                            if (!USER.equals(row.getString(1))) {
                                throw new AssertionError("client " + id + " runs as " + row.getString(1));
                            }
                            return row.getInteger(0);
                        }));
            }
            for (int i = 0; i < CLIENTS; i++) {
                try {
                    assertThat(await(answers.get(i))).as("answer of client %d", i).isEqualTo(i + 1);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.merge(String.valueOf(e.getCause()), 1, Integer::sum);
                }
                if (logins.get(i).succeeded()) {
                    connected.add(logins.get(i).result());
                }
            }
            assertThat(new TreeMap<>(failures)).as("failures (message → clients)").isEmpty();
            // all of them are still connected now: the storm was served as one, not one after another
            assertThat(connected).hasSize(CLIENTS);
            Thread.sleep(600); // the admin console's client tally is reused for up to half a second
            try (java.sql.Connection admin = ThroughPgferry.admin(port)) {
                Map<String, String> pool = AdminConsoleRows.pool(admin, DB, USER);
                assertThat(Integer.parseInt(pool.get("cl_active")) + Integer.parseInt(pool.get("cl_waiting"))).as("clients pgferry holds: %s", pool)
                        .isEqualTo(CLIENTS);
            }
            counter.close();
            assertThat(counter.max.get()).as("server sessions of %s/%s at most", USER, DB)
                    .isBetween(1, ManyClientsTest.POOL_SIZE);
        } finally {
            List<Future<Void>> closed = new ArrayList<>();
            for (PgConnection c : connected) {
                closed.add(c.close());
            }
            await(Future.join(closed));
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(180, TimeUnit.SECONDS);
    }
}
