package dev.pgferry.differential;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The comparison of two arms' observations, without a server. */
class DivergenceTest {

    @Test
    void equalObservationsAreNoDivergence() {
        assertThat(Divergence.firstDifference(List.of("Z(I)"), List.of("Z(I)"))).isEqualTo(-1);
        assertThat(Divergence.of(1, 0, 0, "op", List.of("C(SET)", "Z(I)"), List.of("C(SET)", "Z(I)"))).isNull();
        assertThat(Divergence.of(1, 0, 0, "op", List.of(), List.of())).isNull();
    }

    @Test
    void theFirstDifferingObservationIsNamed() {
        assertThat(Divergence.firstDifference(List.of("C(SET)", "Z(I)"), List.of("C(SET)", "Z(T)"))).isEqualTo(1);
        assertThat(Divergence.firstDifference(List.of("E(ERROR 42P05)"), List.of("1", "Z(I)"))).isZero();
    }

    @Test
    void aMissingOrExtraObservationIsADifference() {
        assertThat(Divergence.firstDifference(List.of("C(SET)"), List.of("C(SET)", "Z(I)"))).isEqualTo(1);
        assertThat(Divergence.firstDifference(List.of("C(SET)", "N(WARNING 25P01)"), List.of("C(SET)"))).isEqualTo(1);
    }

    @Test
    void nullValuesCompareAsNull() {
        // current_setting(.., true) of a custom variable: NULL in a fresh session, '' once set and reset
        assertThat(Divergence.firstDifference(Arrays.asList("a", null), Arrays.asList("a", null))).isEqualTo(-1);
        assertThat(Divergence.firstDifference(Arrays.asList("a", null), List.of("a", ""))).isEqualTo(1);
    }

    @Test
    void theReportShowsBothArms() {
        Divergence d = Divergence.of(7, 3, 2, "probe", List.of("D[UTC]"), List.of("D[Etc/UTC]"));
        assertThat(d.toString()).contains("step 7", "block 3", "client 2", "probe", "#0", "D[UTC]", "D[Etc/UTC]");
    }
}
