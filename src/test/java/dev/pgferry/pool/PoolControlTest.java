package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.backend.ServerConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** PAUSE, RESUME, KILL and RECONNECT as state, against a fake of the backends they act on. */
class PoolControlTest {
    /** Records what control asked of the backends; {@code open} is what {@code total()} answers. */
    private static final class FakeBackends implements PoolControl.Backends {
        final List<String> calls = new ArrayList<>();
        int open;

        @Override
        public void closeIdle() {
            calls.add("closeIdle");
        }

        @Override
        public void serveWaiters() {
            calls.add("serveWaiters");
        }

        @Override
        public void closeBeingCanceled() {
            calls.add("closeBeingCanceled");
        }

        @Override
        public void closeObsoleteIdle() {
            calls.add("closeObsoleteIdle");
        }

        @Override
        public int total() {
            return open;
        }
    }

    private static final class FakeListener implements FreshBackendListener {
        int serverChanged;

        @Override
        public void opened(ServerConnection c, boolean paused) {}

        @Override
        public void serverChanged() {
            serverChanged++;
        }
    }

    private final FakeBackends backends = new FakeBackends();
    private final FakeListener listener = new FakeListener();
    private final PoolControl control = new PoolControl(backends, listener);

    @Test
    void pausingAPoolWithoutBackendsIsDrainedAtOnce() {
        CompletableFuture<Void> drained = control.pause();
        assertThat(control.paused()).isTrue();
        assertThat(drained).isCompleted();
        assertThat(backends.calls).containsExactly("closeIdle");
    }

    @Test
    void aPauseIsDrainedWhenTheLastBackendCloses() {
        backends.open = 2;
        CompletableFuture<Void> drained = control.pause();
        assertThat(drained).isNotDone();
        control.lastClosed();
        assertThat(drained).isCompleted();
    }

    @Test
    void pausingAgainReturnsTheDrainUnderWayAndAsksNothingMore() {
        backends.open = 1;
        CompletableFuture<Void> first = control.pause();
        assertThat(control.pause()).isSameAs(first);
        assertThat(backends.calls).containsExactly("closeIdle");
    }

    @Test
    void resumeCancelsTheDrainAndServesTheWaiters() {
        backends.open = 1;
        CompletableFuture<Void> drained = control.pause();
        control.resume();
        assertThat(control.paused()).isFalse();
        assertThat(drained).isCancelled();
        assertThat(backends.calls).containsExactly("closeIdle", "serveWaiters");
        control.lastClosed();
        control.resume();
        assertThat(backends.calls).as("a resume of a running pool does nothing").hasSize(2);
    }

    @Test
    void theLastBackendClosingOutsideAPauseCompletesNothing() {
        control.lastClosed();
        backends.open = 1;
        CompletableFuture<Void> drained = control.pause();
        assertThat(drained).isNotDone();
    }

    @Test
    void killPausesForgetsTheServerParametersAndClosesBackendsHeldForACancel() {
        control.kill();
        assertThat(control.paused()).isTrue();
        assertThat(listener.serverChanged).isEqualTo(1);
        assertThat(backends.calls).containsExactly("closeIdle", "closeBeingCanceled");
    }

    @Test
    void reconnectMakesEveryBackendOpenedBeforeItObsolete() {
        long before = System.nanoTime();
        assertThat(control.obsolete(before)).as("nothing is obsolete before a RECONNECT").isFalse();
        control.reconnect();
        long after = System.nanoTime() + 1;
        assertThat(control.obsolete(before)).isTrue();
        assertThat(control.obsolete(after)).isFalse();
        assertThat(control.paused()).as("RECONNECT disturbs no client").isFalse();
        assertThat(listener.serverChanged).isEqualTo(1);
        assertThat(backends.calls).containsExactly("closeObsoleteIdle");
    }
}
