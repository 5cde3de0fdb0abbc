package dev.pgferry.pooling;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The scenario of listen_fanout.py and listen_fanout.js with the Vert.x PostgreSQL client, default options:
 * {@code clients} connections through pgferry each LISTEN on one of {@code channels} channels and take
 * {@link PgConnection#notificationHandler}; {@code rounds} rounds of one NOTIFY per channel follow, sent in turn by two
 * other clients through pgferry (NOTIFY in a transaction; pg_notify with parameters, prepared) and by a direct
 * connection. Returns "ok N clients, M notifications" or what differed.
 */
final class VertxListenFanout {
    private VertxListenFanout() {}

    static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    static String run(PgConnectOptions proxy, PgConnectOptions direct, String prefix, int clients, int channels,
            int rounds) throws Exception {
        Vertx vertx = Vertx.vertx();
        List<PgConnection> listeners = new ArrayList<>();
        List<List<String>> got = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                PgConnection c = await(PgConnection.connect(vertx, proxy));
                List<String> mine = Collections.synchronizedList(new ArrayList<>());
                got.add(mine);
                c.notificationHandler(n -> mine.add(n.getChannel() + "|" + n.getPayload() + "|" + n.getProcessId()));
                listeners.add(c);
                await(c.query("LISTEN " + prefix + (i % channels)).execute());
            }
            PgConnection a = await(PgConnection.connect(vertx, proxy));
            PgConnection b = await(PgConnection.connect(vertx, proxy));
            PgConnection d = await(PgConnection.connect(vertx, direct));
            List<List<String>> expected = new ArrayList<>();
            for (int ch = 0; ch < channels; ch++) {
                expected.add(new ArrayList<>());
            }
            for (int k = 0; k < rounds; k++) {
                int pid;
                if (k % 3 == 2) {
                    pid = d.processId();
                    for (int ch = 0; ch < channels; ch++) {
                        await(d.preparedQuery("select pg_notify($1, $2)").execute(Tuple.of(prefix + ch, payload(k, ch))));
                    }
                } else {
                    PgConnection c = k % 3 == 0 ? a : b;
                    Transaction tx = await(c.begin());
                    pid = await(c.query("select pg_backend_pid()").execute()).iterator().next().getInteger(0);
                    for (int ch = 0; ch < channels; ch++) {
                        if (c == a) {
                            await(c.query("NOTIFY " + prefix + ch + ", '" + payload(k, ch).replace("'", "''") + "'")
                                    .execute());
                        } else {
                            await(c.preparedQuery("select pg_notify($1, $2)").execute(Tuple.of(prefix + ch,
                                    payload(k, ch))));
                        }
                    }
                    await(tx.commit());
                }
                for (int ch = 0; ch < channels; ch++) {
                    expected.get(ch).add(prefix + ch + "|" + payload(k, ch) + "|" + pid);
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (got.stream().anyMatch(g -> g.size() < rounds) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Thread.sleep(500);
            for (PgConnection c : listeners) {
                await(c.query("select 1").execute()); // anything after the last expected one has come by now
            }
            List<String> failures = new ArrayList<>();
            int total = 0;
            for (int i = 0; i < clients; i++) {
                List<String> mine = List.copyOf(got.get(i));
                total += mine.size();
                if (!mine.equals(expected.get(i % channels))) {
                    failures.add("client " + i + ": got " + mine + " expected " + expected.get(i % channels));
                }
            }
            for (PgConnection c : List.of(a, b, d)) {
                await(c.close());
            }
            return failures.isEmpty() ? "ok " + clients + " clients, " + total + " notifications"
                    : failures.size() + " clients differ; first: " + String.join("\n", failures.subList(0,
                            Math.min(3, failures.size())));
        } finally {
            for (PgConnection c : listeners) {
                await(c.close());
            }
            await(vertx.close());
        }
    }

    static String payload(int round, int channel) {
        return "round " + round + " ch " + channel + " ‘quoted’ é";
    }
}
