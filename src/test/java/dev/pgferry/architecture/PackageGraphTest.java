package dev.pgferry.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** How {@link PackageGraph} reads a source file and finds cycles, without the project's sources. */
class PackageGraphTest {
    private static PackageGraph.Use use(String from, String to) {
        return new PackageGraph.Use("F.java", from, to);
    }

    @Test
    void importsStaticImportsWildcardsAndQualifiedNamesAreUses() {
        PackageGraph g = new PackageGraph();
        g.add("F.java", """
                package dev.pgferry.session;

                import dev.pgferry.pool.Pool;
                import static dev.pgferry.protocol.SqlState.PROTOCOL_VIOLATION;
                import dev.pgferry.auth.*;

                class F {
                    dev.pgferry.auth.hba.HbaFile hba;
                    dev.pgferry.session.Other sameOwn;
                }
                """);
        assertThat(g.uses()).containsExactly(use("dev.pgferry.session", "dev.pgferry.pool"),
                use("dev.pgferry.session", "dev.pgferry.protocol"), use("dev.pgferry.session", "dev.pgferry.auth"),
                use("dev.pgferry.session", "dev.pgferry.auth.hba"));
    }

    @Test
    void commentsAndLiteralsAreNoUses() {
        PackageGraph g = new PackageGraph();
        g.add("F.java", """
                package dev.pgferry.server;

                /** Started by {@link dev.pgferry.admin.AdminConsole}. */
                class F {
                    // dev.pgferry.admin.Kill
                    String s = "dev.pgferry.admin.Kill \\" dev.pgferry.admin.Pause";
                    char q = '"';
                    String block = \"""
                        dev.pgferry.admin.Reload
                        \""";
                    /* dev.pgferry.admin.Resume */ int x;
                }
                """);
        assertThat(g.uses()).isEmpty();
    }

    @Test
    void topLevelPackageIsTheFirstSegmentBelowTheRoot() {
        assertThat(PackageGraph.topLevel("dev.pgferry.auth.hba")).isEqualTo("auth");
        assertThat(PackageGraph.topLevel("dev.pgferry.admin")).isEqualTo("admin");
        assertThat(PackageGraph.topLevel("dev.pgferry")).isEmpty();
    }

    @Test
    void subpackagesCountAsTheirTopLevelPackage() {
        PackageGraph g = new PackageGraph();
        g.add("A.java", "package dev.pgferry.config.pgbouncer;\nclass A { dev.pgferry.config.PgferryConfig c; }");
        g.add("B.java", "package dev.pgferry.server;\nimport dev.pgferry.observability.health.LivenessCheck;\nclass B {}");
        assertThat(g.topLevelEdges()).isEqualTo(Map.of("server", Map.of("observability", "B.java")));
    }

    @Test
    void packageEdgesKeepSubpackagesApartSoTheirCyclesShow() {
        PackageGraph g = new PackageGraph();
        g.add("A.java", "package dev.pgferry.config.pgbouncer;\nclass A { dev.pgferry.config.PgferryConfig c; }");
        g.add("B.java", "package dev.pgferry.config;\nimport dev.pgferry.config.pgbouncer.IniParser;\nclass B {}");
        assertThat(g.topLevelEdges()).isEmpty();
        assertThat(g.packageEdges()).isEqualTo(Map.of("dev.pgferry.config.pgbouncer", Map.of("dev.pgferry.config",
                "A.java"), "dev.pgferry.config", Map.of("dev.pgferry.config.pgbouncer", "B.java")));
        assertThat(PackageGraph.cycles(g.packageEdges()))
                .containsExactly(new TreeSet<>(List.of("dev.pgferry.config", "dev.pgferry.config.pgbouncer")));
    }

    @Test
    void aCycleIsFoundWithEveryPackageInIt() {
        Map<String, Map<String, String>> edges = Map.of("server", Map.of("session", "", "admin", ""),
                "admin", Map.of("session", "", "server", ""), "session", Map.of("pool", ""));
        assertThat(PackageGraph.cycles(edges)).containsExactly(new TreeSet<>(List.of("admin", "server")));
    }

    @Test
    void aLongerCycleIsOneComponent() {
        Map<String, Map<String, String>> edges = Map.of("a", Map.of("b", ""), "b", Map.of("c", ""),
                "c", Map.of("a", ""), "d", Map.of("a", ""));
        List<SortedSet<String>> cycles = PackageGraph.cycles(edges);
        assertThat(cycles).containsExactly(new TreeSet<>(List.of("a", "b", "c")));
    }

    @Test
    void layersPointingOneWayHaveNoCycle() {
        Map<String, Map<String, String>> edges = Map.of("server", Map.of("session", ""), "session",
                Map.of("pool", ""), "pool", Map.of("backend", ""), "admin", Map.of("session", "", "pool", ""));
        assertThat(PackageGraph.cycles(edges)).isEmpty();
    }
}
