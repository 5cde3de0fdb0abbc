package dev.pgferry.config.pgbouncer;

import java.nio.file.Path;

/**
 * A PgBouncer configuration pgferry refuses: a syntax error, an invalid value, or a key it cannot honour safely. The
 * message names the file and line ({@code (file:line)}), as PgBouncer's own loader does.
 */
public final class IniException extends RuntimeException {
    public IniException(String message, Path file, int line) {
        super(message + " (" + file + ":" + line + ")");
    }

    public IniException(String message, IniEntry entry) {
        this(message, entry.file(), entry.line());
    }

    public IniException(String message) {
        super(message);
    }
}
