package dev.pgferry.devservice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** Writes a PgBouncer {@code userlist.txt}: {@code "user" "secret"} per line, a quote inside doubled. */
public final class UserlistFile {

    private UserlistFile() {
    }

    /** Writes the users with their plaintext passwords, readable by the owner only. */
    public static void write(Path file, List<DbUser> users) {
        StringBuilder text = new StringBuilder();
        for (DbUser user : users) {
            text.append(quoted(user.name())).append(' ').append(quoted(user.password())).append('\n');
        }
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, ".userlist", ".tmp");
            Files.writeString(tmp, text);
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException notPosix) {
                // keep the platform default
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write users file " + file, e);
        }
    }

    static String quoted(String value) {
        return '"' + value.replace("\"", "\"\"") + '"';
    }
}
