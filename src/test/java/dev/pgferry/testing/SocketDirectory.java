package dev.pgferry.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A fresh directory for a Unix socket, short (under /tmp): a socket path holds at most 107 bytes. */
public final class SocketDirectory {
    private SocketDirectory() {}

    /** Created now and deleted at JVM exit, like {@code files} in it (pgferry deletes its own socket when it stops). */
    public static Path create(String... files) {
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "pgf");
            dir.toFile().deleteOnExit(); // registered first, deleted last: deleteOnExit runs in reverse order
            for (String f : files) {
                dir.resolve(f).toFile().deleteOnExit();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
