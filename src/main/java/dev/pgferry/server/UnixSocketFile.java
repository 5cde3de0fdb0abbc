package dev.pgferry.server;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * The file of the Unix-domain socket clients reach pgferry on: its name, PostgreSQL's and PgBouncer's
 * {@code <dir>/.s.PGSQL.<port>} (so {@code psql -h <dir> -p <port>} finds it), its mode, and what becomes of a file
 * already at that path.
 */
public final class UnixSocketFile {
    /** Linux's {@code sun_path} holds 108 bytes, the terminating NUL included. */
    static final int MAX_PATH_BYTES = 107;

    /** Owner, group, others; read, write, execute: bit 8 down to bit 0 of a mode. */
    private static final PosixFilePermission[] BITS = {
        PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE
    };

    private UnixSocketFile() {}

    /**
     * {@code dir/.s.PGSQL.port}.
     *
     * @throws IllegalArgumentException when the path does not fit in a socket address
     */
    public static Path path(String dir, int port) {
        Path socket = Path.of(dir, ".s.PGSQL." + port);
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("pgferry.unix-socket-dir: socket path \"" + socket + "\" is " + bytes
                    + " bytes long (expected: <= " + MAX_PATH_BYTES + ")");
        }
        return socket;
    }

    /**
     * The permissions of an octal mode as PgBouncer's {@code unix_socket_mode} takes it ({@code 0777}, {@code 660}).
     * Connecting to a socket needs write permission on it.
     *
     * @throws IllegalArgumentException for anything but one to four octal digits worth at most 0777 (setuid, setgid
     *     and sticky bits mean nothing on a socket)
     */
    static Set<PosixFilePermission> permissions(String octal) {
        if (octal.isEmpty() || octal.length() > 4 || !octal.chars().allMatch(c -> c >= '0' && c <= '7')) {
            throw new IllegalArgumentException("pgferry.unix-socket-mode: \"" + octal
                    + "\" (expected: an octal mode such as 0777 or 0660)");
        }
        int mode = Integer.parseInt(octal, 8);
        if (mode > 0777) {
            throw new IllegalArgumentException("pgferry.unix-socket-mode: " + octal + " (expected: <= 0777)");
        }
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < BITS.length; i++) {
            if ((mode & (0400 >> i)) != 0) {
                permissions.add(BITS[i]);
            }
        }
        return permissions;
    }

    /**
     * Makes way for binding {@code socket}: a file left there by a run that crashed (nothing accepts a connection on
     * it) is deleted. PostgreSQL guards its socket with a lock file holding its process id and PgBouncer unlinks
     * whatever is there; asking the socket itself needs no second file and cannot take a live server's socket away.
     *
     * @throws IOException when another server accepts connections on it, when it is a directory, or when whether
     *     anything listens cannot be told (permission denied, a full backlog)
     */
    static void clearStale(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(socket, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot listen on " + socket + ": it is a directory");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // non-blocking: on a full backlog a blocking connect would wait; EAGAIN is an error here, not a stale file
            probe.configureBlocking(false);
            probe.connect(UnixDomainSocketAddress.of(socket));
        } catch (ConnectException refused) {
            // ECONNREFUSED: a socket nobody listens on, or not a socket at all
            Files.deleteIfExists(socket);
            return;
        } catch (IOException e) {
            if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                return; // gone meanwhile
            }
            throw new IOException("cannot tell whether another server listens on " + socket + " (" + e.getMessage()
                    + "); remove the file if it is stale", e);
        }
        throw new IOException("another server listens on " + socket
                + " (is pgferry already running with this pgferry.unix-socket-dir and pgferry.listen-port?)");
    }
}
