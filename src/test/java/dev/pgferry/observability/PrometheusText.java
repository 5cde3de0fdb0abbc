package dev.pgferry.observability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The samples of a Prometheus text exposition: {@code name{labels} value} lines, comments skipped. */
public final class PrometheusText {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    public record Sample(String name, Map<String, String> labels, double value) {}

    private final List<Sample> samples = new ArrayList<>();
    private final String text;

    public PrometheusText(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (line.startsWith("#") || !m.find()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
        }
    }

    /** The value of the one sample with this name whose labels include {@code labels}; NaN when absent. */
    public double value(String name, Map<String, String> labels) {
        List<Sample> found = samples.stream()
                .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
                .toList();
        if (found.size() > 1) {
            throw new IllegalStateException(found.size() + " samples match " + name + labels + ": " + found);
        }
        return found.isEmpty() ? Double.NaN : found.get(0).value();
    }

    /** True when the exposition has a {@code # HELP} line with some text for this sample name or its family (no {@code _total}). */
    public boolean hasHelp(String name) {
        String family = name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
        return Pattern.compile("^# HELP (" + Pattern.quote(name) + "|" + Pattern.quote(family) + ") \\S",
                Pattern.MULTILINE).matcher(text).find();
    }
}
