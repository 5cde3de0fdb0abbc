package dev.pgferry.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.backend.BackendTarget;
import dev.pgferry.config.PgferryConfig.PoolMode;
import dev.pgferry.pool.BackendLimit;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.pool.PoolSettings;
import dev.pgferry.pool.Pools;
import dev.pgferry.protocol.SqlState;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which pools PAUSE and RESUME reach, and what a PAUSE that did not see its pools drained answers. */
class PauseStateTest {
    private final EventLoop loop = new DefaultEventLoop();
    private final PoolSettings settings = new PoolSettings(PoolMode.TRANSACTION, 2, 0, Duration.ofMinutes(10),
            Duration.ofHours(1), Duration.ofSeconds(120));
    /** Pools that never open a backend: nobody asks them for one here. */
    private final Pools pools = new Pools(k -> new Pool(k, new BackendTarget("127.0.0.1", 1, k.database()), settings,
            null, null, List.of(loop), new BackendLimit(0), new BackendLimit(0)));
    private final PauseState state = new PauseState(pools);

    @AfterEach
    void stopLoop() {
        loop.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void pauseOfADatabaseReachesItsPoolsOnlyAndAPoolWithoutBackendsIsDrainedAtOnce() {
        Pool benchA = pools.get(new PoolKey("bench", "a"));
        Pool benchB = pools.get(new PoolKey("bench", "b"));
        Pool other = pools.get(new PoolKey("postgres", "a"));

        List<PauseState.Drain> drains = state.pause("bench");

        assertThat(drains).extracting(PauseState.Drain::pool).containsExactlyInAnyOrder(benchA, benchB);
        assertThat(drains).allSatisfy(d -> assertThat(d.drained()).isCompleted());
        assertThat(benchA.control().paused()).isTrue();
        assertThat(benchB.control().paused()).isTrue();
        assertThat(other.control().paused()).isFalse();
        assertThat(state.paused("bench")).isTrue();
        assertThat(state.paused("postgres")).isFalse();
    }

    @Test
    void aSecondPauseWaitsOnTheSameDrainAndAPoolCreatedLaterStartsPaused() {
        Pool first = pools.get(new PoolKey("bench", "a"));
        CompletableFuture<Void> drained = state.pause("bench").get(0).drained();
        assertThat(state.pause("bench")).singleElement().satisfies(d -> assertThat(d.drained()).isSameAs(drained));
        assertThat(first.control().pause()).isSameAs(drained);

        assertThat(pools.get(new PoolKey("bench", "late")).control().paused()).isTrue();
        assertThat(pools.get(new PoolKey("postgres", "late")).control().paused()).isFalse();
    }

    @Test
    void resumeWithoutANameResumesEveryPoolAndPausingAllCoversPoolsToCome() {
        Pool a = pools.get(new PoolKey("bench", "a"));
        Pool b = pools.get(new PoolKey("postgres", "a"));
        assertThat(state.pause(null)).hasSize(2);
        assertThat(state.allPaused()).isTrue();
        assertThat(pools.get(new PoolKey("third", "a")).control().paused()).isTrue();

        assertThat(state.resume(null)).isEqualTo(3);
        assertThat(a.control().paused()).isFalse();
        assertThat(b.control().paused()).isFalse();
        assertThat(state.paused("bench")).isFalse();
        assertThat(state.resume("bench")).as("nothing left to resume").isZero();
    }

    @Test
    void aTimedOutPauseNamesThePoolsStillHoldingBackends() {
        Pool drainedPool = pools.get(new PoolKey("bench", "a"));
        Pool busyPool = pools.get(new PoolKey("bench", "b"));
        List<PauseState.Drain> drains = List.of(new PauseState.Drain(drainedPool, CompletableFuture.completedFuture(null)),
                new PauseState.Drain(busyPool, new CompletableFuture<>()));

        AdminException e = Pause.refusal("database \"bench\"", Duration.ofMillis(1500), drains, new TimeoutException());

        assertThat(e.sqlState()).isEqualTo(SqlState.QUERY_CANCELED);
        assertThat(e.getMessage()).isEqualTo("PAUSE timed out after 1500 ms (pgferry.admin.pause-timeout): pools"
                + " with server connections still open: \"bench/b\" (0 active, 0 connecting); database \"bench\""
                + " stays paused, RESUME ends it");
    }

    @Test
    void aPauseEndedByResumeSaysSo() {
        AdminException e = Pause.refusal("all databases", Duration.ofSeconds(60), List.of(),
                new CompletionException(new CancellationException()));
        assertThat(e.sqlState()).isEqualTo(SqlState.QUERY_CANCELED);
        assertThat(e.getMessage()).isEqualTo(
                "PAUSE of all databases ended by RESUME before every server connection was closed");
    }
}
