package dev.pgferry.differential;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Random scenarios: blocks of ops for {@code clients} logical clients, drawn by jqwik arbitraries from a seeded
 * source of randomness (a {@code @Property} would run under the jqwik engine, outside the Quarkus test extension, so the
 * harness draws and shrinks itself; the seed makes a run repeatable).
 */
final class ScenarioGenerator {

    /** What to draw: how many clients, which families, which parameters. */
    record Settings(int clients, Set<Family> families, List<Param> params) {}

    static final List<String> STATEMENT_NAMES = List.of("s1", "s2");

    private final Settings settings;

    ScenarioGenerator(Settings settings) {
        this.settings = settings;
    }

    /** Blocks drawn from {@code seed} until they hold at least {@code steps} ops. */
    List<Block> generate(long seed, int steps) {
        // sampleStream() works outside the jqwik engine and draws from the thread's SourceOfRandomness
        net.jqwik.engine.SourceOfRandomness.create(Long.toString(seed));
        java.util.Iterator<Block> blocks = blocks().sampleStream().iterator();
        List<Block> out = new ArrayList<>();
        int n = 0;
        while (n < steps) {
            Block b = blocks.next();
            out.add(b);
            n += b.ops().size();
        }
        return out;
    }

    private boolean on(Family f) {
        return settings.families().contains(f);
    }

    Arbitrary<Block> blocks() {
        Arbitrary<Integer> client = Arbitraries.integers().between(0, settings.clients() - 1);
        Arbitrary<Block> work = Combinators.combine(client, op().list().ofMinSize(1).ofMaxSize(5), Arbitraries.of(true, false))
                .as(Block::new);
        if (!on(Family.STARTUP)) {
            return work;
        }
        Arbitrary<Block> reconnect = Combinators.combine(client, startup())
                .as((c, s) -> new Block(c, List.of(new Op.Reconnect(s)), false));
        return Arbitraries.frequencyOf(Tuple.of(12, work), Tuple.of(1, reconnect));
    }

    /** Startup parameters of a reconnect: each of a few, or none. */
    Arbitrary<Map<String, String>> startup() {
        boolean dateStyle = settings.params().stream().anyMatch(p -> p.name().equals("DateStyle"));
        return Arbitraries.of(true, false).list().ofSize(5).map(pick -> {
            Map<String, String> m = new LinkedHashMap<>();
            if (pick.get(0)) {
                m.put("application_name", "startup_app");
            }
            if (pick.get(1)) {
                m.put("options", pick.get(2) ? "-c statement_timeout=9s -c work_mem=256kB" : "-c search_path=diff");
            }
            if (pick.get(3)) {
                m.put("TimeZone", "Asia/Tokyo");
            }
            if (pick.get(4)) {
                m.put(dateStyle ? "DateStyle" : "extra_float_digits", dateStyle ? "SQL, DMY" : "2");
            }
            return m;
        });
    }

    Arbitrary<Op> op() {
        List<Tuple.Tuple2<Integer, Arbitrary<? extends Op>>> ops = new ArrayList<>();
        Arbitrary<String> one = statement();
        if (on(Family.SIMPLE) || settings.families().stream().noneMatch(Family.PROTOCOLS::contains)) {
            ops.add(Tuple.of(6, one.list().ofMinSize(1).ofMaxSize(3).map(l -> new Op.Simple(String.join("; ", l)))));
        }
        if (on(Family.UNNAMED)) {
            ops.add(Tuple.of(4, one.map(Op.Unnamed::new)));
        }
        if (on(Family.NAMED)) {
            Arbitrary<String> name = Arbitraries.of(STATEMENT_NAMES);
            ops.add(Tuple.of(2, Combinators.combine(name, one).as(Op.Prepare::new)));
            ops.add(Tuple.of(5, name.map(Op.Run::new)));
            ops.add(Tuple.of(1, name.map(Op.Close::new)));
        }
        if (on(Family.PIPELINE)) {
            ops.add(Tuple.of(2, one.list().ofMinSize(2).ofMaxSize(4).map(Op.Pipeline::new)));
        }
        if (on(Family.FLUSH)) {
            ops.add(Tuple.of(1, one.map(Op.Flushed::new)));
        }
        return Arbitraries.frequencyOf(ops.toArray(Tuple.Tuple2[]::new));
    }

    /** One statement of an enabled family, or a plain query. */
    Arbitrary<String> statement() {
        List<Tuple.Tuple2<Integer, Arbitrary<? extends String>>> s = new ArrayList<>();
        s.add(Tuple.of(6, Arbitraries.of(
                "select * from {t} order by id, c1",
                "select count(*)::int as n, sum(c1) as s from {t}",
                "update {t} set c1 = c1 + 1 where id = 1",
                "select '2024-02-03 04:05:06+00'::timestamptz as ts, interval '1 day 02:03' as iv,"
                        + " 0.1::float8 as f, '\\x01ff'::bytea as b",
                "select 1 as one")));
        s.add(Tuple.of(1, Arbitraries.integers().between(2, 9).map(n -> "insert into {t}(id, c1) values (" + n + ", " + n + ")")));
        Arbitrary<Param> param = Arbitraries.of(settings.params());
        Arbitrary<String> assignment = param.flatMap(p -> Arbitraries.of(p.values()).map(v -> p.name() + " = '" + v + "'"));
        Arbitrary<String> setConfig = Combinators.combine(param.flatMap(p -> Arbitraries.of(p.values()).map(v -> p.name() + "', '" + v)),
                Arbitraries.of(true, false)).as((nv, local) -> "set_config('" + nv + "', " + local + ")");
        if (on(Family.SET)) {
            s.add(Tuple.of(4, assignment.map(a -> "SET " + a)));
        }
        if (on(Family.SET_LOCAL)) {
            s.add(Tuple.of(2, assignment.map(a -> "SET LOCAL " + a)));
        }
        if (on(Family.RESET)) {
            s.add(Tuple.of(2, param.map(p -> "RESET " + p.name())));
            s.add(Tuple.of(1, Arbitraries.just("RESET ALL")));
        }
        if (on(Family.DISCARD)) {
            s.add(Tuple.of(1, Arbitraries.just("DISCARD ALL")));
        }
        if (on(Family.SET_CONFIG)) {
            s.add(Tuple.of(2, setConfig.map(c -> "select " + c + " as v")));
        }
        if (on(Family.DO)) {
            s.add(Tuple.of(2, Arbitraries.oneOf(
                    assignment.map(a -> "DO $$BEGIN SET " + a + "; END$$"),
                    param.map(p -> "DO $$BEGIN RESET " + p.name() + "; END$$"),
                    on(Family.SET_CONFIG) ? setConfig.map(c -> "DO $$BEGIN PERFORM " + c + "; END$$")
                            : assignment.map(a -> "DO $$BEGIN SET LOCAL " + a + "; END$$"))));
        }
        if (on(Family.TRANSACTION)) {
            s.add(Tuple.of(5, Arbitraries.of("BEGIN", "BEGIN", "COMMIT", "ROLLBACK",
                    "START TRANSACTION ISOLATION LEVEL REPEATABLE READ")));
        }
        if (on(Family.SAVEPOINT)) {
            s.add(Tuple.of(2, Arbitraries.of("SAVEPOINT s", "ROLLBACK TO SAVEPOINT s", "RELEASE SAVEPOINT s")));
        }
        if (on(Family.ERROR)) {
            s.add(Tuple.of(2, Arbitraries.of("select 1/0", "select 'x'::int", "select * from diff.no_such_table",
                    "DO $$BEGIN RAISE EXCEPTION 'diff' USING ERRCODE = 'P0002'; END$$")));
        }
        if (on(Family.DDL)) {
            s.add(Tuple.of(2, Arbitraries.of("alter table {t} add column if not exists c2 int",
                    "alter table {t} drop column if exists c2", "alter table {t} alter column c1 type bigint",
                    "alter table {t} alter column c1 type int")));
        }
        return Arbitraries.frequencyOf(s.toArray(Tuple.Tuple2[]::new));
    }
}
