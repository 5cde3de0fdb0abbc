package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The cancel keys pgferry issues to its clients, and the lookup a CancelRequest uses to find the backend that client
 * holds at that moment. A key is a process id and a secret: in transaction mode the id is made up by pgferry, in
 * session mode it is the real pid of the backend the client keeps (so that {@code pg_backend_pid()} and the pid of a
 * notification match it), with pgferry's own secret either way. A real pid may equal a made-up one, or the pid of a
 * backend of another server, so several clients may share an id: the secret decides which one a request is for, and
 * no two clients sharing an id get the same secret.
 */
public final class CancelRegistry {
    /** A client session that can be cancelled. */
    public interface Target {
        /** The secret, as sent in BackendKeyData; the registry may redraw it while registering. */
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

    private static final Target[] NONE = new Target[0];
    /**
     * The clients issued each process id: the {@link Target} itself when it is the only one (almost always: no array
     * per client), else a {@code Target[]}. Arrays are replaced, never changed in place.
     */
    private final ConcurrentHashMap<Integer, Object> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random;
    /** Redraws a secret keeping this replica's peer stamp. */
    private final dev.pgferry.peer.CancelKeys keys;

    /** Without peering. */
    public CancelRegistry(SecureRandom random) {
        this(new dev.pgferry.peer.CancelKeys(random, 0));
    }

    public CancelRegistry(dev.pgferry.peer.CancelKeys keys) {
        this.random = keys.random();
        this.keys = keys;
    }

    /** Registers {@code target} under a fresh positive process id that no other client has, which is returned. */
    public int register(Target target) {
        while (true) {
            int pid = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            if (byProcessId.putIfAbsent(pid, target) == null) {
                return pid;
            }
        }
    }

    /**
     * Registers {@code target} under {@code pid}, a backend's real process id, which other clients may have too: its
     * secret is redrawn (before the client is told it) until none of them has the same. Returns {@code pid}; with 0,
     * as {@link #register(Target)}.
     */
    public int register(Target target, int pid) {
        if (pid == 0) {
            return register(target);
        }
        byProcessId.compute(pid, (k, had) -> {
            Target[] others = targets(had);
            while (sameSecret(others, target.cancelKey()) != null) {
                keys.redraw(target.cancelKey()); // keeping the peer stamp
            }
            if (others.length == 0) {
                return target;
            }
            Target[] now = Arrays.copyOf(others, others.length + 1);
            now[others.length] = target;
            return now;
        });
        return pid;
    }

    public void unregister(int pid, Target target) {
        byProcessId.computeIfPresent(pid, (k, had) -> {
            if (had instanceof Target one) {
                return one == target ? null : one;
            }
            Target[] all = (Target[]) had;
            int n = 0;
            Target[] now = new Target[all.length];
            for (Target t : all) {
                if (t != target) {
                    now[n++] = t;
                }
            }
            return n == 0 ? null : n == 1 ? now[0] : Arrays.copyOf(now, n);
        });
    }

    /**
     * Cancels the query of the client with this id and key; does nothing for an unknown id or a wrong key (compared
     * in constant time, a key of another length never matches). {@code done} runs when the request is over: at once
     * when there was nothing to cancel, else once the server has taken the forwarded request.
     */
    public void cancel(int pid, byte[] key, BiConsumer<ServerConnection, Runnable> forwarder, Runnable done) {
        Target t = sameSecret(targets(byProcessId.get(pid)), key);
        if (t == null) {
            done.run();
            return;
        }
        t.cancel(forwarder, done);
    }

    /** What {@link #byProcessId} holds for one id, as an array. */
    private static Target[] targets(Object held) {
        if (held == null) {
            return NONE;
        }
        return held instanceof Target one ? new Target[] {one} : (Target[]) held;
    }

    /** The one of {@code targets} whose secret is {@code key}; every secret is compared, in constant time. */
    private static Target sameSecret(Target[] targets, byte[] key) {
        Target found = null;
        for (Target t : targets) {
            if (MessageDigest.isEqual(t.cancelKey(), key)) {
                found = t;
            }
        }
        return found;
    }

    /** Clients registered. */
    public int size() {
        int n = 0;
        for (Object held : byProcessId.values()) {
            n += held instanceof Target ? 1 : ((Target[]) held).length;
        }
        return n;
    }
}
