package dev.pgferry.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.pool.Pool;
import dev.pgferry.server.ProxyServer;
import dev.pgferry.session.ClientView;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/** Waits for the pgferry under test to reach a state: a session's, a pool's. */
final class PgferryState {
    private PgferryState() {}

    /** Waits up to 3 s until some session of {@code server} is in state {@code state}. */
    static void awaitSessionState(ProxyServer server, String state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        Set<String> seen = new TreeSet<>();
        while (System.nanoTime() < deadline) {
            for (ClientView s : server.context().loggedInClients()) {
                seen.add(s.state());
                if (s.state().equals(state)) {
                    return;
                }
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no session reached state " + state + ", seen " + seen);
    }

    /** Waits up to 3 s for {@code pool} to hold {@code idle} idle backends, none leased, nobody waiting. */
    static void awaitAllIdle(Pool pool, int idle) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < deadline) {
            Pool.PoolCounts c = pool.stats().counts();
            if (c.idle() == idle && c.active() == 0 && c.waiting() == 0) {
                break;
            }
            Thread.sleep(5);
        }
        assertThat(pool.stats().counts()).as("pool counts").isEqualTo(new Pool.PoolCounts(idle, 0, 0, 0, 0, 0, 0));
        assertThat(pool.growth().total()).as("backends open").isEqualTo(idle);
    }
}
