package dev.pgferry.differential;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Makes a failing scenario small, greedily: drop halves, quarters… of the blocks, then single blocks, then single ops
 * inside blocks, keeping each cut after which the scenario still fails. Every try replays the candidate on fresh
 * connections, so the budget (tries) bounds the time.
 */
final class Shrinker {
    private final Predicate<List<Block>> fails;
    private int budget;

    Shrinker(Predicate<List<Block>> fails, int budget) {
        this.fails = fails;
        this.budget = budget;
    }

    /** Tries left. */
    int budget() {
        return budget;
    }

    List<Block> shrink(List<Block> failing) {
        List<Block> s = failing;
        for (int chunk = Math.max(1, s.size() / 2); chunk >= 1; chunk = chunk == 1 ? 0 : Math.max(1, chunk / 2)) {
            boolean cut = true;
            while (cut && budget > 0) {
                cut = false;
                for (int at = 0; at + chunk <= s.size() && s.size() > 1 && budget > 0; ) {
                    List<Block> c = new ArrayList<>(s.subList(0, at));
                    c.addAll(s.subList(at + chunk, s.size()));
                    if (test(c)) {
                        s = c;
                        cut = true;
                    } else {
                        at += chunk;
                    }
                }
            }
        }
        for (int bi = 0; bi < s.size() && budget > 0; bi++) {
            for (int oi = 0; oi < s.get(bi).ops().size() && s.get(bi).ops().size() > 1 && budget > 0; ) {
                Block b = s.get(bi);
                List<Op> ops = new ArrayList<>(b.ops());
                ops.remove(oi);
                List<Block> c = new ArrayList<>(s);
                c.set(bi, new Block(b.client(), ops, b.commit()));
                if (test(c)) {
                    s = c;
                } else {
                    oi++;
                }
            }
        }
        return s;
    }

    private boolean test(List<Block> candidate) {
        budget--;
        return !candidate.isEmpty() && fails.test(candidate);
    }
}
