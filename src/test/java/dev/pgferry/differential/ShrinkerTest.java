package dev.pgferry.differential;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shrinker against a known failure condition, without a server. */
class ShrinkerTest {

    private static Block block(int client, String... sql) {
        return new Block(client, java.util.Arrays.stream(sql).map(s -> (Op) new Op.Simple(s)).toList(), true);
    }

    private static boolean has(List<Block> blocks, String sql) {
        return blocks.stream().anyMatch(b -> b.ops().contains(new Op.Simple(sql)));
    }

    @Test
    void shrinksToTheBlocksAndOpsTheFailureNeeds() {
        List<Block> big = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            big.add(block(i % 3, "select " + i, "SET work_mem = '" + i + "kB'"));
        }
        big.set(7, block(1, "select 7", "SET TimeZone = 'UTC'", "select 7b"));
        big.set(31, block(2, "RESET ALL", "select 31"));
        // fails when the SET comes before the RESET ALL, as a restore bug would
        Shrinker s = new Shrinker(c -> has(c, "SET TimeZone = 'UTC'") && has(c, "RESET ALL")
                && c.indexOf(c.stream().filter(b -> b.ops().contains(new Op.Simple("SET TimeZone = 'UTC'"))).findFirst()
                        .orElseThrow()) < c.indexOf(c.stream().filter(b -> b.ops().contains(new Op.Simple("RESET ALL")))
                        .findFirst().orElseThrow()), 1000);
        List<Block> small = s.shrink(big);
        assertThat(small).containsExactly(block(1, "SET TimeZone = 'UTC'"), block(2, "RESET ALL"));
    }

    @Test
    void stopsWhenItsBudgetIsSpent() {
        List<Block> big = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            big.add(block(0, "select " + i));
        }
        Shrinker s = new Shrinker(c -> true, 5);
        assertThat(s.shrink(big).size()).isLessThan(64);
        assertThat(s.budget()).isZero();
    }
}
