package dev.pgferry.peer;

/**
 * The replica count a share is computed from, moved so that the replicas' shares never add up to more than the total
 * while they disagree: a rise (a peer came: the share shrinks) is taken at once, a fall (a peer went: the share grows)
 * only once it has held for {@code graceNanos}, time enough for the others to have seen the newcomer and shrunk first.
 * A replica starts as if the count were unbounded (no share yet, see {@link ClusterBudget#share}) and takes its share
 * after the grace, for the same reason: the others may not have seen it yet. Not thread-safe: one caller, the peer watch.
 */
public final class AliveCount {
    private final long graceNanos;
    private int current = Integer.MAX_VALUE;
    /** When the count seen first fell below the one in force; -1 while it has not. */
    private long fallingSince = -1;

    public AliveCount(long graceNanos) {
        this.graceNanos = graceNanos;
    }

    /** The count in force after seeing {@code seen} replicas alive at {@code nowNanos}. */
    public int next(int seen, long nowNanos) {
        if (seen >= current) {
            current = seen;
            fallingSince = -1;
        } else if (fallingSince < 0) {
            fallingSince = nowNanos;
        } else if (nowNanos - fallingSince >= graceNanos) {
            current = seen;
            fallingSince = -1;
        }
        return current;
    }

    /** The count in force; {@link Integer#MAX_VALUE} until the first grace has passed. */
    public int current() {
        return current;
    }
}
