package dev.pgferry.auth.hba;

import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code pgferry.auth.hba-file}: the rules in force, read at start and again on RELOAD or SIGHUP. Reads take no lock:
 * they see one immutable {@link HbaRules}, swapped by {@link #reload()}; a file that fails to load leaves the previous
 * rules in force. Blocking file I/O: never reload on an event loop.
 */
public final class HbaFile {
    private final Path path;
    private volatile HbaRules rules;

    /** Reads {@code path} now; a start with a broken file fails. */
    public HbaFile(Path path) throws HbaException {
        this.path = Objects.requireNonNull(path, "path");
        reload();
    }

    /** Re-reads the file; on an error (which names file:line) the previous rules stay. */
    public synchronized void reload() throws HbaException {
        rules = HbaRules.load(path);
    }

    public HbaRules rules() {
        return rules;
    }

    public Path path() {
        return path;
    }
}
