package dev.pgferry.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rule of ARCHITECTURE.md, on the main sources: {@code admin} and {@code observability} sit on top and
 * nothing imports them, {@code observability} reads through interfaces of the layers below rather than the listener
 * ({@code server}), and no packages form a cycle: neither the top-level ones nor any package with its sub-packages.
 * A failure names the file that breaks the rule.
 */
class PackageDependencyTest {
    private static final Path MAIN = Path.of("src", "main", "java");
    /** Packages on top of the layers: the control plane and the read-only health and metrics. */
    private static final Set<String> ON_TOP = Set.of("admin", "observability");

    private static PackageGraph graph;

    @BeforeAll
    static void scan() {
        graph = PackageGraph.scan(MAIN);
        assertThat(graph.uses()).as("uses found under %s", MAIN.toAbsolutePath()).hasSizeGreaterThan(100);
    }

    @Test
    void nothingOutsideAdminImportsAdmin() {
        assertThat(usesOf("admin")).as("files outside dev.pgferry.admin that use it").isEmpty();
    }

    @Test
    void nothingOutsideObservabilityImportsObservability() {
        assertThat(usesOf("observability")).as("files outside dev.pgferry.observability that use it").isEmpty();
    }

    @Test
    void observabilityDoesNotImportTheServer() {
        List<String> offending = graph.uses().stream()
                .filter(u -> PackageGraph.topLevel(u.fromPackage()).equals("observability")
                        && PackageGraph.topLevel(u.toPackage()).equals("server"))
                .map(u -> u.file() + " uses " + u.toPackage()).distinct().toList();
        assertThat(offending).as("observability reads the listener through session.ProxyStatus, not server").isEmpty();
    }

    @Test
    void topLevelPackagesFormNoCycle() {
        assertNoCycle(graph.topLevelEdges(), "package cycles among dev.pgferry.*");
    }

    @Test
    void noPackageFormsACycleWithItsSubPackagesEither() {
        assertNoCycle(graph.packageEdges(), "package cycles among dev.pgferry.** (sub-packages apart)");
    }

    private static void assertNoCycle(SortedMap<String, SortedMap<String, String>> edges, String what) {
        List<SortedSet<String>> cycles = PackageGraph.cycles(edges);
        StringBuilder why = new StringBuilder();
        for (SortedSet<String> cycle : cycles) {
            why.append("\ncycle ").append(cycle).append(':');
            for (String from : cycle) {
                edges.getOrDefault(from, new java.util.TreeMap<>()).forEach((to, file) -> {
                    if (cycle.contains(to)) {
                        why.append("\n  ").append(from).append(" -> ").append(to).append(" (e.g. ").append(file)
                                .append(')');
                    }
                });
            }
        }
        assertThat(cycles).as(what + why).isEmpty();
    }

    /** Files outside {@code top} (and outside the other packages on top, which may not use it either) using it. */
    private static List<String> usesOf(String top) {
        assertThat(ON_TOP).contains(top);
        return graph.uses().stream()
                .filter(u -> !PackageGraph.topLevel(u.fromPackage()).equals(top)
                        && PackageGraph.topLevel(u.toPackage()).equals(top))
                .map(u -> u.file() + " uses " + u.toPackage()).distinct().toList();
    }
}
