package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

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

        /**
         * Cancels what the client runs now, if anything: hands its backend to {@code forwarder} on the client's own
         * loop, where the backend cannot change hands meanwhile. {@code done} runs once that is over, at once if
         * there is nothing to cancel.
         */
        void cancel(BiConsumer<ServerConnection, Runnable> forwarder, Runnable done);
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

    /**
     * Cancels the query of the client with this id and key; does nothing for an unknown id or a wrong key (compared
     * in constant time, a key of another length never matches). {@code done} runs when the request is over: at once
     * when there was nothing to cancel, else once the server has taken the forwarded request.
     */
    public void cancel(int pid, byte[] key, BiConsumer<ServerConnection, Runnable> forwarder, Runnable done) {
        Target t = byProcessId.get(pid);
        if (t == null || !MessageDigest.isEqual(t.cancelKey(), key)) {
            done.run();
            return;
        }
        t.cancel(forwarder, done);
    }

    public int size() {
        return byProcessId.size();
    }
}
