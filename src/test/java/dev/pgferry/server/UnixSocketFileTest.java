package dev.pgferry.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UnixSocketFileTest {
    @TempDir
    Path dir;

    @Test
    void theSocketIsNamedAsPostgresNamesIt() {
        assertThat(UnixSocketFile.path("/var/run/pgferry", 6432)).isEqualTo(Path.of("/var/run/pgferry/.s.PGSQL.6432"));
        assertThat(UnixSocketFile.path("/var/run/pgferry/", 6432)).isEqualTo(Path.of("/var/run/pgferry/.s.PGSQL.6432"));
    }

    @Test
    void aPathLongerThanASocketAddressHoldsIsRefused() {
        String dir107 = "/" + "d".repeat(107 - 1 - "/.s.PGSQL.6432".length());
        assertThat(UnixSocketFile.path(dir107, 6432).toString()).hasSize(UnixSocketFile.MAX_PATH_BYTES);
        assertThatThrownBy(() -> UnixSocketFile.path(dir107 + "d", 6432)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is 108 bytes long (expected: <= 107)");
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({"0777, rwxrwxrwx", "777, rwxrwxrwx", "0660, rw-rw----", "0600, rw-------", "0755, rwxr-xr-x",
        "0, ---------", "0001, --------x", "0070, ---rwx---"})
    void anOctalModeIsItsPermissions(String octal, String permissions) {
        assertThat(UnixSocketFile.permissions(octal)).isEqualTo(PosixFilePermissions.fromString(permissions));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0778", "rwxrwxrwx", "0x1ff", "-777", "01777", "4777", "00777", " 0777"})
    void anythingButOctalPermissionBitsIsRefused(String mode) {
        assertThatThrownBy(() -> UnixSocketFile.permissions(mode)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("pgferry.unix-socket-mode: ");
    }

    @Test
    void nothingAtThePathIsNothingToDo() throws IOException {
        UnixSocketFile.clearStale(dir.resolve(".s.PGSQL.6432"));
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void aRegularFileAtThePathIsReplaced() throws IOException {
        Path socket = Files.writeString(dir.resolve(".s.PGSQL.6432"), "left over");
        UnixSocketFile.clearStale(socket);
        assertThat(socket).doesNotExist();
        assertBindable(socket);
    }

    /** A crashed run leaves its socket file: the JDK, unlike Netty, does not delete it when the channel closes. */
    @Test
    void aLeftoverSocketNobodyListensOnIsReplaced() throws IOException {
        Path socket = dir.resolve(".s.PGSQL.6432");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        UnixSocketFile.clearStale(socket);
        assertThat(socket).doesNotExist();
        assertBindable(socket);
    }

    @Test
    void aSocketAnotherServerListensOnStopsTheStartAndStays() throws IOException {
        Path socket = dir.resolve(".s.PGSQL.6432");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(socket));
            assertThatThrownBy(() -> UnixSocketFile.clearStale(socket)).isInstanceOf(IOException.class)
                    .hasMessageStartingWith("another server listens on " + socket);
            assertThat(socket).exists();
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertThat(client.isConnected()).as("the other server still accepts").isTrue();
            }
        }
    }

    @Test
    void aDirectoryAtThePathIsNotDeleted() throws IOException {
        Path socket = Files.createDirectory(dir.resolve(".s.PGSQL.6432"));
        assertThatThrownBy(() -> UnixSocketFile.clearStale(socket)).isInstanceOf(IOException.class)
                .hasMessageContaining("is a directory");
        assertThat(socket).isDirectory();
    }

    private static void assertBindable(Path socket) throws IOException {
        try (ServerSocketChannel next = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            next.bind(UnixDomainSocketAddress.of(socket));
        } finally {
            Files.deleteIfExists(socket);
        }
    }
}
