package dev.pgferry.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Which {@code dev.pgferry} packages each source file uses, read from its text: import lines (static and wildcard
 * ones too) and names written out in full in the code ({@code dev.pgferry.auth.hba.HbaFile}). Comments and string
 * literals are skipped, so a Javadoc link or a log message naming a class is no dependency.
 */
final class PackageGraph {
    static final String ROOT = "dev.pgferry";
    /** A qualified name: the package is every segment before the first capitalised one (or a wildcard). */
    private static final Pattern REFERENCE =
            Pattern.compile("\\bdev\\.pgferry((?:\\.[a-z_][a-z0-9_]*)*)\\.(?:[A-Z]\\w*|\\*)");
    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);

    /** One use of a package by a file. */
    record Use(String file, String fromPackage, String toPackage) {}

    private final List<Use> uses = new ArrayList<>();

    /** Reads every {@code .java} file under {@code sourceRoot}. */
    static PackageGraph scan(Path sourceRoot) {
        PackageGraph g = new PackageGraph();
        try (Stream<Path> files = Files.walk(sourceRoot)) {
            files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(f -> {
                try {
                    g.add(sourceRoot.relativize(f).toString(), Files.readString(f));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return g;
    }

    /** Adds the uses of one file's source text. */
    void add(String file, String source) {
        Matcher p = PACKAGE.matcher(source);
        if (!p.find()) {
            throw new IllegalArgumentException(file + " has no package line");
        }
        String from = p.group(1);
        Matcher m = REFERENCE.matcher(codeOnly(source));
        while (m.find()) {
            String to = ROOT + m.group(1);
            if (!to.equals(from)) {
                uses.add(new Use(file, from, to));
            }
        }
    }

    List<Use> uses() {
        return List.copyOf(uses);
    }

    /**
     * {@code dev.pgferry.auth.hba} → {@code auth}: the top-level package, the unit ARCHITECTURE.md's layers are made of;
     * a class directly in {@code dev.pgferry} is {@code ""}.
     */
    static String topLevel(String pkg) {
        if (pkg.equals(ROOT)) {
            return "";
        }
        String rest = pkg.substring(ROOT.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    /** Top-level package → the top-level packages it uses, with one file that uses each as a witness. */
    SortedMap<String, SortedMap<String, String>> topLevelEdges() {
        SortedMap<String, SortedMap<String, String>> edges = new TreeMap<>();
        for (Use u : uses) {
            String a = topLevel(u.fromPackage());
            String b = topLevel(u.toPackage());
            if (!a.equals(b)) {
                edges.computeIfAbsent(a, k -> new TreeMap<>()).putIfAbsent(b, u.file());
            }
        }
        return edges;
    }

    /**
     * Package → the packages it uses, sub-packages as packages of their own ({@code config.pgbouncer} apart from
     * {@code config}), with one file that uses each as a witness: a cycle between a package and its sub-package
     * shows here, where {@link #topLevelEdges} folds it away.
     */
    SortedMap<String, SortedMap<String, String>> packageEdges() {
        SortedMap<String, SortedMap<String, String>> edges = new TreeMap<>();
        for (Use u : uses) {
            edges.computeIfAbsent(u.fromPackage(), k -> new TreeMap<>()).putIfAbsent(u.toPackage(), u.file());
        }
        return edges;
    }

    /** The cycles of {@code edges}: its strongly connected components of more than one node (Tarjan). */
    static List<SortedSet<String>> cycles(Map<String, ? extends Map<String, ?>> edges) {
        return new Tarjan(edges).run();
    }

    /** The text with comments removed and the contents of string, text-block and char literals blanked. */
    static String codeOnly(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (source.startsWith("//", i)) {
                int end = source.indexOf('\n', i);
                i = end < 0 ? n : end;
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                while (end > 0 && source.charAt(end - 1) == '\\') {
                    end = source.indexOf("\"\"\"", end + 1);
                }
                i = end < 0 ? n : end + 3;
                out.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                i = Math.min(n, j + 1);
                out.append(c).append(c);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static final class Tarjan {
        private final Map<String, ? extends Map<String, ?>> edges;
        private final Map<String, Integer> index = new HashMap<>();
        private final Map<String, Integer> low = new HashMap<>();
        private final Deque<String> stack = new ArrayDeque<>();
        private final Set<String> onStack = new TreeSet<>();
        private final List<SortedSet<String>> found = new ArrayList<>();

        Tarjan(Map<String, ? extends Map<String, ?>> edges) {
            this.edges = edges;
        }

        List<SortedSet<String>> run() {
            SortedSet<String> nodes = new TreeSet<>(edges.keySet());
            edges.values().forEach(to -> nodes.addAll(to.keySet()));
            for (String v : nodes) {
                if (!index.containsKey(v)) {
                    visit(v);
                }
            }
            return found;
        }

        private void visit(String v) {
            index.put(v, index.size());
            low.put(v, index.get(v));
            stack.push(v);
            onStack.add(v);
            Map<String, ?> out = edges.get(v);
            for (String w : out == null ? Set.<String>of() : out.keySet()) {
                if (!index.containsKey(w)) {
                    visit(w);
                    low.put(v, Math.min(low.get(v), low.get(w)));
                } else if (onStack.contains(w)) {
                    low.put(v, Math.min(low.get(v), index.get(w)));
                }
            }
            if (low.get(v).equals(index.get(v))) {
                SortedSet<String> component = new TreeSet<>();
                String w;
                do {
                    w = stack.pop();
                    onStack.remove(w);
                    component.add(w);
                } while (!w.equals(v));
                if (component.size() > 1) {
                    found.add(component);
                }
            }
        }
    }
}
