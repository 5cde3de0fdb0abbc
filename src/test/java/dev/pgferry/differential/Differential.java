package dev.pgferry.differential;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Runs the property "the arms agree" over many random scenarios and fails with a shrunk one. A scenario is a run of
 * about {@link #RUN_STEPS} ops on fresh connections; the run's seed is the base seed plus its number, printed with
 * every failure, so {@code -Ddiff.seed=<that> -Ddiff.steps=<its steps>} repeats it alone.
 *
 * <p>System properties: {@code diff.seed} (base seed, default 16), {@code diff.steps} (total ops for every property,
 * default the property's CI size), {@code diff.families} (e.g. {@code all,-ddl}: replaces the property's families),
 * {@code diff.shrink.tries} (default 200).
 */
final class Differential {
    private static final Logger LOG = Logger.getLogger(Differential.class);
    static final int RUN_STEPS = Integer.getInteger("diff.run.steps", 400);

    private Differential() {}

    /** What a property checks: its name, clients, families and parameters, its CI size. */
    record Property(String name, int clients, Set<Family> families, List<Param> params, int ciSteps) {
        Property withFamilies(Set<Family> f) {
            return new Property(name, clients, f, params, ciSteps);
        }
    }

    static long seed() {
        return Long.getLong("diff.seed", 16L);
    }

    static int steps(int ciSteps) {
        return Integer.getInteger("diff.steps", ciSteps);
    }

    /** The property's families, or {@code -Ddiff.families} where given. */
    static Property configured(Property p) {
        String f = System.getProperty("diff.families");
        Property q = f == null || f.isBlank() ? p : p.withFamilies(Family.parse(f));
        return new Property(q.name(), q.clients(), q.families(), Param.configured(q.params()), q.ciSteps());
    }

    /**
     * Plays random scenarios on the two arms until {@code diff.steps} ops ran; returns null when they always agreed,
     * else the report of the first divergence, shrunk.
     */
    static String check(Property property, Supplier<Arm> proxy, Supplier<Arm> direct) throws Exception {
        Property p = configured(property);
        ScenarioGenerator gen = new ScenarioGenerator(new ScenarioGenerator.Settings(p.clients(), p.families(), p.params()));
        int total = steps(p.ciSteps());
        long base = seed();
        long started = System.nanoTime();
        int done = 0;
        for (long run = 0; done < total; run++) {
            long seed = base + run;
            int steps = Math.min(RUN_STEPS, total - done);
            List<Block> blocks = gen.generate(seed, steps);
            DifferentialRun.Outcome o = play(p, blocks, proxy, direct);
            done += o.steps();
            if (o.divergence() != null) {
                return report(p, seed, steps, blocks, o, proxy, direct);
            }
            if (run % 10 == 9) {
                LOG.infof("diff %s: %d of %d steps, %d s", p.name(), done, total, (System.nanoTime() - started) / 1_000_000_000L);
            }
        }
        LOG.infof("diff %s: families %s, seed %d, %d steps, 0 divergences, %d ms", p.name(), p.families(), base, done,
                (System.nanoTime() - started) / 1_000_000);
        return null;
    }

    private static DifferentialRun.Outcome play(Property p, List<Block> blocks, Supplier<Arm> proxy, Supplier<Arm> direct)
            throws Exception {
        try (Arm a = proxy.get(); Arm b = direct.get()) {
            return DifferentialRun.run(blocks, a, b, p.clients(), p.params());
        }
    }

    private static String report(Property p, long seed, int steps, List<Block> blocks, DifferentialRun.Outcome o,
            Supplier<Arm> proxy, Supplier<Arm> direct) {
        List<Block> prefix = new ArrayList<>(blocks.subList(0, o.divergence().block() + 1));
        Divergence[] last = {o.divergence()};
        Shrinker shrinker = new Shrinker(candidate -> {
            try {
                DifferentialRun.Outcome c = play(p, candidate, proxy, direct);
                if (c.divergence() != null) {
                    last[0] = c.divergence();
                    return true;
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        }, Integer.getInteger("diff.shrink.tries", 200));
        List<Block> minimal = prefix.isEmpty() ? prefix : shrinker.shrink(prefix);
        // replay the minimal scenario so the divergence shown is its own
        try {
            DifferentialRun.Outcome m = play(p, minimal, proxy, direct);
            if (m.divergence() != null) {
                last[0] = m.divergence();
            }
        } catch (Exception e) {
            // keep the last divergence seen
        }
        StringBuilder sb = new StringBuilder();
        sb.append("diff ").append(p.name()).append(": the arms diverged; repeat with -Ddiff.seed=").append(seed)
                .append(" -Ddiff.steps=").append(steps).append(" -Ddiff.families=")
                .append(String.join(",", p.families().stream().map(f -> f.name().toLowerCase(java.util.Locale.ROOT)).toList()))
                .append("\nfirst divergence: ").append(o.divergence())
                .append("\nshrunk from ").append(prefix.size()).append(" blocks to ").append(minimal.size())
                .append(" (").append(shrinker.budget()).append(" tries left):\n");
        sb.append(describe(minimal));
        sb.append("minimal divergence: ").append(last[0]);
        LOG.error(sb);
        return sb.toString();
    }

    static String describe(List<Block> blocks) {
        StringBuilder sb = new StringBuilder();
        for (Block b : blocks) {
            sb.append("  client ").append(b.client()).append(":");
            for (Op op : b.ops()) {
                sb.append("\n    ").append(op);
            }
            sb.append("\n    (").append(b.ending()).append(" if still in a transaction)\n");
        }
        return sb.toString();
    }
}
