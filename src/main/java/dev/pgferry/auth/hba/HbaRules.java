package dev.pgferry.auth.hba;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The lines of one HBA file, in order; immutable. The first line that matches a client decides. */
public final class HbaRules {
    private final List<HbaRule> rules;

    HbaRules(List<HbaRule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** Reads {@code file}; {@code @name} includes are resolved beside it, as PostgreSQL and PgBouncer do. */
    public static HbaRules load(Path file) throws HbaException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new HbaException("could not read " + file + ": " + e, e);
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(file.toString(), text,
                name -> Files.readString(dir.resolve(name), StandardCharsets.UTF_8));
    }

    static HbaRules parse(String source, String text, HbaParser.Includes includes) throws HbaException {
        return new HbaRules(new HbaParser(source, includes).parse(text));
    }

    public List<HbaRule> rules() {
        return rules;
    }

    /** The first line matching {@code client}; empty when none does (the connection is rejected). */
    public Optional<HbaRule> match(HbaClient client) {
        for (HbaRule r : rules) {
            if (r.matches(client)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
