package dev.pgferry.config.pgbouncer;

import java.nio.file.Path;

/** One {@code key = value} line of a PgBouncer ini file, with the section it is in and where it was read. */
public record IniEntry(Path file, int line, String section, String key, String value) {

    /** {@code file:line}, as PgBouncer's loader names a place in its error messages. */
    public String where() {
        return file + ":" + line;
    }
}
