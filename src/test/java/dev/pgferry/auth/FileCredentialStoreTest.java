package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCredentialStoreTest {

    @TempDir
    Path dir;

    @Test
    void looksUpAndReloads() throws IOException {
        Path file = Files.writeString(dir.resolve("userlist.txt"), "\"alice\" \"a1\"\n\"bob\" \"b1\"\n");
        FileCredentialStore store = new FileCredentialStore(file);

        assertThat(store.size()).isEqualTo(2);
        assertThat(store.lookup("alice").orElseThrow().secret()).isEqualTo(new UserSecret.Plain("a1"));
        assertThat(store.lookup("nobody")).isEmpty();
        assertThat(store.lookup(null)).isEmpty();
        StoredCredential alice = store.lookup("alice").orElseThrow();
        ScramKeys aliceKeys = alice.scramKeys().orElseThrow();
        StoredCredential bob = store.lookup("bob").orElseThrow();

        Files.writeString(file, "\"alice\" \"a1\"\n\"bob\" \"b2\"\n\"carol\" \"c1\"\n");
        store.reload();

        assertThat(store.size()).isEqualTo(3);
        // Unchanged secret: same credential, same derived keys (no second PBKDF2, same salt).
        assertThat(store.lookup("alice").orElseThrow()).isSameAs(alice);
        assertThat(store.lookup("alice").orElseThrow().scramKeys().orElseThrow()).isEqualTo(aliceKeys);
        assertThat(store.lookup("bob").orElseThrow()).isNotSameAs(bob);
        assertThat(store.lookup("bob").orElseThrow().secret()).isEqualTo(new UserSecret.Plain("b2"));
    }

    @Test
    void aBrokenFileKeepsThePreviousUsers() throws IOException {
        Path file = Files.writeString(dir.resolve("userlist.txt"), "\"alice\" \"a1\"\n");
        FileCredentialStore store = new FileCredentialStore(file);

        Files.writeString(file, "\"alice\" \"a1\"\nbroken\n");
        assertThatThrownBy(store::reload).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ": line 2: expected a quoted user name");
        Files.delete(file);
        assertThatThrownBy(store::reload).isInstanceOf(IOException.class);

        assertThat(store.lookup("alice")).isPresent();
    }

    @Test
    void derivesScramKeysOncePerCredential() {
        StoredCredential plain = new StoredCredential("u", UserSecret.parse("pw"));
        ScramKeys keys = plain.scramKeys().orElseThrow();

        assertThat(plain.scramKeys().orElseThrow()).isEqualTo(keys);
        assertThat(keys.iterations()).isEqualTo(4096);
        assertThat(keys.salt()).hasSize(16);
        assertThat(keys.toSecret()).satisfies(s -> assertThat(PlainAuth.verify(s, "u", "pw")).isTrue());
    }
}
