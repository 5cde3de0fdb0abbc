package dev.pgferry.session;

import dev.pgferry.pool.PoolKey;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Logged-in clients per pool by what they do: holding a backend, waiting for one, or idle. One pass over the
 * sessions serves every gauge of a scrape: the tally is reused for {@link #MAX_AGE_NANOS}. Session states are
 * read from another thread, so the numbers are a moment's approximation, as PgBouncer's are.
 */
public final class ClientCounts {
    private static final long MAX_AGE_NANOS = 500_000_000L;
    private static final Counts NONE = new Counts(0, 0, 0);

    private final Supplier<? extends SessionStats> context;
    private volatile Tally tally;

    public ClientCounts(Supplier<? extends SessionStats> context) {
        this.context = context;
    }

    public Counts of(PoolKey key) {
        Tally t = tally;
        long now = System.nanoTime();
        if (t == null || now - t.takenNanos > MAX_AGE_NANOS) {
            t = take(now);
            tally = t;
        }
        return t.byPool.getOrDefault(key, NONE);
    }

    private Tally take(long now) {
        Map<PoolKey, int[]> raw = new HashMap<>();
        SessionStats sc = context.get();
        if (sc != null) {
            for (ClientView s : sc.loggedInClients()) {
                int slot = switch (s.state()) {
                    case "restoring", "leased", "fixup" -> 0;
                    case "leasing" -> 1;
                    case "idle" -> 2;
                    default -> -1;
                };
                if (slot >= 0) {
                    raw.computeIfAbsent(s.pool().key(), k -> new int[3])[slot]++;
                }
            }
        }
        Map<PoolKey, Counts> byPool = new HashMap<>();
        raw.forEach((k, v) -> byPool.put(k, new Counts(v[0], v[1], v[2])));
        return new Tally(now, byPool);
    }

    /** {@code active}: holding a backend; {@code waiting}: asked for one and has none yet; {@code idle}: neither. */
    public record Counts(int active, int waiting, int idle) {}

    private record Tally(long takenNanos, Map<PoolKey, Counts> byPool) {}
}
