package dev.pgferry.hosts;

import java.util.List;

/**
 * Which host of a list gets the next new backend: among hosts whose role the target accepts, the one with the
 * fewest connections; on a tie, round-robin from a cursor the caller advances. {@link TargetRole#PREFER_STANDBY}
 * falls back to any answering host when no standby is up. Pure: no I/O, no state.
 */
public final class HostChoice {

    /** No host of the list serves the target now. */
    public static final int NONE = -1;

    /** One host as seen at choice time. */
    public record Candidate(HostRole role, int connections) {
    }

    private HostChoice() {
    }

    /**
     * The index of the chosen host in {@code hosts}, or {@link #NONE}.
     *
     * @param cursor any int; ties go to the first tied host at or after {@code cursor mod size}
     */
    public static int choose(List<Candidate> hosts, TargetRole target, int cursor) {
        int chosen = best(hosts, target, cursor);
        if (chosen == NONE && target == TargetRole.PREFER_STANDBY) {
            chosen = best(hosts, TargetRole.ANY, cursor);
        }
        return chosen;
    }

    /**
     * Whether a backend to host {@code host} may be leased for {@code target} now: its role is accepted, or, for
     * {@link TargetRole#PREFER_STANDBY}, it answers and no standby does. The same rule as {@link #choose}, so that a
     * backend opened by the fallback is dropped once a standby is back.
     */
    public static boolean fits(List<HostRole> roles, TargetRole target, int host) {
        HostRole role = roles.get(host);
        if (target.accepts(role)) {
            return true;
        }
        if (target != TargetRole.PREFER_STANDBY || role == HostRole.UNKNOWN) {
            return false;
        }
        for (HostRole r : roles) {
            if (target.accepts(r)) {
                return false;
            }
        }
        return true;
    }

    private static int best(List<Candidate> hosts, TargetRole target, int cursor) {
        int size = hosts.size();
        if (size == 0) {
            return NONE;
        }
        int start = Math.floorMod(cursor, size);
        int chosen = NONE;
        int fewest = Integer.MAX_VALUE;
        // walking from the cursor and keeping only strictly fewer makes the first tied host after it win
        for (int step = 0; step < size; step++) {
            int i = (start + step) % size;
            Candidate c = hosts.get(i);
            if (target.accepts(c.role()) && c.connections() < fewest) {
                fewest = c.connections();
                chosen = i;
            }
        }
        return chosen;
    }
}
