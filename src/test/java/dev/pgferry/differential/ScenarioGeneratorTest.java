package dev.pgferry.differential;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The generator, without a server: repeatable from its seed, and it draws only from the families switched on. */
class ScenarioGeneratorTest {

    private static List<Block> scenario(EnumSet<Family> families, long seed, int steps) {
        return new ScenarioGenerator(new ScenarioGenerator.Settings(3, families, Param.ALL)).generate(seed, steps);
    }

    private static List<Op> ops(List<Block> blocks) {
        return blocks.stream().flatMap(b -> b.ops().stream()).toList();
    }

    @Test
    void theSameSeedGivesTheSameScenario() {
        for (long seed = 0; seed < 5; seed++) {
            assertThat(scenario(EnumSet.allOf(Family.class), seed, 300))
                    .isEqualTo(scenario(EnumSet.allOf(Family.class), seed, 300));
        }
        assertThat(scenario(EnumSet.allOf(Family.class), 1, 300)).isNotEqualTo(scenario(EnumSet.allOf(Family.class), 2, 300));
    }

    @Test
    void enoughStepsAndClientsInRange() {
        List<Block> s = scenario(EnumSet.allOf(Family.class), 16, 500);
        assertThat(ops(s)).hasSizeGreaterThanOrEqualTo(500);
        assertThat(s).allSatisfy(b -> {
            assertThat(b.client()).isBetween(0, 2);
            assertThat(b.ops()).isNotEmpty();
        });
    }

    @Test
    void everyFamilyShowsUpWhenAllAreOn() {
        List<Op> all = ops(scenario(EnumSet.allOf(Family.class), 16, 3000));
        for (Class<?> kind : List.of(Op.Simple.class, Op.Unnamed.class, Op.Prepare.class, Op.Run.class, Op.Close.class,
                Op.Pipeline.class, Op.Flushed.class, Op.Reconnect.class)) {
            assertThat(all).as(kind.getSimpleName()).anyMatch(kind::isInstance);
        }
        String text = all.toString();
        assertThat(text).contains("SET LOCAL", "RESET ALL", "DISCARD ALL", "set_config(", "DO $$", "BEGIN", "ROLLBACK TO",
                "select 1/0", "alter table");
    }

    @Test
    void familiesSwitchedOffAreNeverDrawn() {
        List<Op> only = ops(scenario(EnumSet.of(Family.SIMPLE, Family.SET), 16, 2000));
        assertThat(only).allMatch(Op.Simple.class::isInstance);
        String text = only.toString();
        assertThat(text).contains("SET ").doesNotContain("SET LOCAL", "RESET", "DISCARD", "set_config", "DO $$", "BEGIN",
                "SAVEPOINT", "1/0", "alter table");
    }

    @Test
    void familiesParseFromTheCommandLine() {
        assertThat(Family.parse("simple, set")).containsExactlyInAnyOrder(Family.SIMPLE, Family.SET);
        assertThat(Family.parse("all,-ddl,-named")).doesNotContain(Family.DDL, Family.NAMED).contains(Family.SIMPLE);
    }

    @Test
    void opsTravelAsJsonToTheScriptArms() {
        assertThat(new Op.Pipeline(List.of("select 1", "SET x = '1'")).toJson().encode())
                .isEqualTo("{\"kind\":\"pipeline\",\"statements\":[\"select 1\",\"SET x = '1'\"]}");
        assertThat(new Op.Reconnect(java.util.Map.of("options", "-c work_mem=256kB")).toJson().encode())
                .isEqualTo("{\"kind\":\"reconnect\",\"startup\":{\"options\":\"-c work_mem=256kB\"}}");
        assertThat(Op.on("select * from {t}", "diff.t_p")).isEqualTo("select * from diff.t_p");
    }
}
