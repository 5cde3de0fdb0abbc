package dev.pgferry.differential;

import java.util.List;

/**
 * The first place where the arms disagreed: after which op (step, counted from 1 over the run, and its block), for
 * which client, observing what, and the two observations.
 */
record Divergence(int step, int block, int client, String what, List<String> proxy, List<String> direct) {

    /** Index of the first observation that differs, or -1 when the two lists are equal. */
    static int firstDifference(List<String> a, List<String> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            if (!java.util.Objects.equals(a.get(i), b.get(i))) {
                return i;
            }
        }
        return a.size() == b.size() ? -1 : n;
    }

    /** A divergence when the observations differ, else null. */
    static Divergence of(int step, int block, int client, String what, List<String> proxy, List<String> direct) {
        return firstDifference(proxy, direct) < 0 ? null : new Divergence(step, block, client, what, proxy, direct);
    }

    @Override
    public String toString() {
        int at = firstDifference(proxy, direct);
        return "step " + step + " (block " + block + "), client " + client + ", " + what + ": first difference at #" + at
                + "\n  through pgferry: " + proxy + "\n  PostgreSQL:      " + direct;
    }
}
