package dev.pgferry.differential;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Switchable kinds of operation the generator draws from: protocols (how a statement travels) and statements (what
 * it does). A property turns off a family that diverges today only while its fix is in progress elsewhere; the long
 * run chooses them with {@code -Ddiff.families=simple,unnamed,...}.
 */
enum Family {
    // protocols
    SIMPLE, UNNAMED, NAMED, PIPELINE, FLUSH,
    // statements (plain SELECT/INSERT/UPDATE are always in)
    SET, SET_LOCAL, RESET, DISCARD, SET_CONFIG, DO, TRANSACTION, SAVEPOINT, ERROR, DDL,
    // connections
    STARTUP;

    static final Set<Family> PROTOCOLS = EnumSet.of(SIMPLE, UNNAMED, NAMED, PIPELINE, FLUSH);

    static Set<Family> all() {
        return EnumSet.allOf(Family.class);
    }

    /** {@code all}, {@code all,-named}, or a list such as {@code simple,set,transaction}. */
    static Set<Family> parse(String spec) {
        Set<Family> s = EnumSet.noneOf(Family.class);
        for (String part : spec.split(",")) {
            String p = part.trim().toUpperCase(Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            if (p.equals("ALL")) {
                s.addAll(all());
            } else if (p.startsWith("-")) {
                s.remove(valueOf(p.substring(1)));
            } else {
                s.add(valueOf(p));
            }
        }
        return s;
    }
}
