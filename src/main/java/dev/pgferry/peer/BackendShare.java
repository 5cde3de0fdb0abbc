package dev.pgferry.peer;

/**
 * The arithmetic of a cluster budget: each replica takes the total divided by the replicas alive, rounded down, at
 * least one. Rounding down keeps the sum within the total whenever every replica sees the same count; the floor of 1
 * lets more replicas than backends still serve (the total is then exceeded by design, one backend each).
 */
public final class BackendShare {
    private BackendShare() {}

    /** This replica's share of {@code total} among {@code alive} replicas; 0 (no budget) when {@code total} is 0. */
    public static int of(int total, int alive) {
        if (total <= 0) {
            return 0;
        }
        return Math.max(1, total / Math.max(1, alive));
    }
}
