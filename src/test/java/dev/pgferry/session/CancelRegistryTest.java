package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.backend.ServerConnection;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * A CancelRequest reaches the client whose process id and secret it carries, and no other: in session mode a client's
 * id is its backend's real pid, which may equal a made-up id or another server's pid, so ids are shared and the secret
 * decides.
 */
class CancelRegistryTest {
    /** A client that records the cancels it got. */
    static final class Client implements CancelRegistry.Target {
        final byte[] key;
        int canceled;

        Client(int... key) {
            this.key = bytes(key);
        }

        @Override
        public byte[] cancelKey() {
            return key;
        }

        @Override
        public ServerConnection currentBackend() {
            return null;
        }

        @Override
        public void cancel(BiConsumer<ServerConnection, Runnable> forwarder, Runnable done) {
            canceled++;
            done.run();
        }
    }

    final CancelRegistry registry = new CancelRegistry(new SecureRandom());

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    private int cancel(int pid, int... key) {
        return cancel(registry, pid, bytes(key));
    }

    private static int cancel(CancelRegistry registry, int pid, byte... key) {
        int[] done = {0};
        registry.cancel(pid, key, (c, r) -> {}, () -> done[0]++);
        return done[0];
    }

    @Test
    void clientsSharingAProcessIdAreToldApartByTheirSecret() {
        Client a = new Client(1, 2, 3, 4);
        Client b = new Client(5, 6, 7, 8);
        int pid = registry.register(a);
        registry.register(b, pid); // a real pid equal to a's made-up one
        assertThat(cancel(pid, 5, 6, 7, 8)).isEqualTo(1);
        assertThat(b.canceled).isEqualTo(1);
        assertThat(a.canceled).isZero();
        assertThat(cancel(pid, 1, 2, 3, 4)).isEqualTo(1);
        assertThat(a.canceled).isEqualTo(1);
        assertThat(cancel(pid, 9, 9, 9, 9)).as("a wrong secret is answered, nobody canceled").isEqualTo(1);
        assertThat(a.canceled + b.canceled).isEqualTo(2);
        registry.unregister(pid, a);
        assertThat(cancel(pid, 1, 2, 3, 4)).isEqualTo(1);
        assertThat(a.canceled).as("gone").isEqualTo(1);
        assertThat(cancel(pid, 5, 6, 7, 8)).isEqualTo(1);
        assertThat(b.canceled).as("still there").isEqualTo(2);
        registry.unregister(pid, b);
        assertThat(registry.size()).isZero();
    }

    @Test
    void aSecondClientUnderOneIdWithTheSameSecretGetsAnotherBeforeItIsTold() {
        Client a = new Client(1, 2, 3, 4);
        Client b = new Client(1, 2, 3, 4);
        registry.register(a, 4242);
        registry.register(b, 4242);
        assertThat(b.key).isNotEqualTo(a.key).containsExactly(b.cancelKey());
        cancel(registry, 4242, a.key.clone());
        cancel(registry, 4242, b.key.clone());
        assertThat(a.canceled).isEqualTo(1);
        assertThat(b.canceled).isEqualTo(1);
    }

    @Property(tries = 50)
    void everyRegisteredClientIsReachedByItsOwnKeyOnly(@ForAll @IntRange(min = 1, max = 30) int n,
            @ForAll @IntRange(min = 1, max = 3) int distinctPids) {
        CancelRegistry registry = new CancelRegistry(new SecureRandom());
        List<Client> clients = new ArrayList<>();
        List<Integer> pids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Client c = new Client(0, 0, 0, i % 2); // secrets collide on purpose
            int pid;
            if (i % 2 == 0) {
                pid = 1000 + i % distinctPids;
                registry.register(c, pid);
            } else {
                pid = registry.register(c);
            }
            clients.add(c);
            pids.add(pid);
        }
        for (int i = 0; i < n; i++) {
            cancel(registry, pids.get(i), clients.get(i).key.clone());
            for (int j = 0; j < n; j++) {
                assertThat(clients.get(j).canceled).as("client %d after cancel %d", j, i).isEqualTo(j <= i ? 1 : 0);
            }
        }
        assertThat(registry.size()).isEqualTo(n);
    }
}
