package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The cancel keys pgferry issues to its clients (never a backend's own), and the lookup a CancelRequest
 * uses to find the backend that client holds at that moment.
 */
public final class CancelRegistry {
    /** A client session that can be cancelled. */
    public interface Target {
        byte[] cancelKey();

        /** The backend the client holds now, or null. Read from any thread. */
        ServerConnection currentBackend();
    }

    private final ConcurrentHashMap<Integer, Target> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random;

    public CancelRegistry(SecureRandom random) {
        this.random = random;
    }

    /** Registers {@code target} under a fresh positive process id, which is returned. */
    public int register(Target target) {
        while (true) {
            int pid = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            if (byProcessId.putIfAbsent(pid, target) == null) {
                return pid;
            }
        }
    }

    public void unregister(int pid) {
        byProcessId.remove(pid);
    }

    /** Finds the backend to cancel; does nothing for an unknown id or a wrong key (compared in constant time). */
    public void cancel(int pid, byte[] key, Consumer<ServerConnection> canceller) {
        Target t = byProcessId.get(pid);
        if (t == null || !MessageDigest.isEqual(t.cancelKey(), key)) {
            return;
        }
        ServerConnection backend = t.currentBackend();
        if (backend != null) {
            canceller.accept(backend);
        }
    }

    public int size() {
        return byProcessId.size();
    }
}
