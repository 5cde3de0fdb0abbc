package dev.pgferry.config.pgbouncer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ini syntax as libusual's parse_ini_file reads it (usual/cfparser.c), and loader.c's connect strings. */
class IniParserTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void commentsSectionsKeysAndValuesAsLibusualReadsThem() throws IOException {
        Path ini = write("a.ini", """
                ;; comment
                   # another, after spaces
                [databases]
                foodb = host=h1 port=5433
                'my db' = host=h2
                [pgbouncer]
                listen_port=6433
                  pool_mode   =   transaction\t\s
                admin_users = a, b ; not a comment: part of the value
                empty =
                """);
        List<IniEntry> e = IniParser.parse(ini);
        assertThat(e).extracting(IniEntry::section, IniEntry::key, IniEntry::value, IniEntry::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("databases", "foodb", "host=h1 port=5433", 4),
                org.assertj.core.groups.Tuple.tuple("databases", "my db", "host=h2", 5),
                org.assertj.core.groups.Tuple.tuple("pgbouncer", "listen_port", "6433", 7),
                org.assertj.core.groups.Tuple.tuple("pgbouncer", "pool_mode", "transaction", 8),
                org.assertj.core.groups.Tuple.tuple("pgbouncer", "admin_users", "a, b ; not a comment: part of the value", 9),
                org.assertj.core.groups.Tuple.tuple("pgbouncer", "empty", "", 10));
    }

    @Test
    void errorsNameFileAndLine() throws IOException {
        Path noEquals = write("b.ini", "[pgbouncer]\nlisten_port 6432\n");
        assertThatThrownBy(() -> IniParser.parse(noEquals)).isInstanceOf(IniException.class)
                .hasMessageContaining("syntax error").hasMessageContaining(noEquals + ":2");
        Path unknown = write("c.ini", "[pgbouncer]\n[nosuch]\n");
        assertThatThrownBy(() -> IniParser.parse(unknown)).hasMessageContaining("invalid section \"nosuch\"")
                .hasMessageContaining(":2");
        Path noSection = write("d.ini", "listen_port = 1\n[pgbouncer]\n");
        assertThatThrownBy(() -> IniParser.parse(noSection)).hasMessageContaining("value without section");
        Path noMain = write("e.ini", "[databases]\nx = host=y\n");
        assertThatThrownBy(() -> IniParser.parse(noMain)).hasMessageContaining("main section [pgbouncer] missing");
        Path unclosed = write("f.ini", "[pgbouncer\nx = 1\n");
        assertThatThrownBy(() -> IniParser.parse(unclosed)).hasMessageContaining("syntax error");
        Path badQuote = write("g.ini", "[pgbouncer]\n'x = 1\n");
        assertThatThrownBy(() -> IniParser.parse(badQuote)).hasMessageContaining("syntax error");
        assertThatThrownBy(() -> IniParser.parse(dir.resolve("missing.ini"))).hasMessageContaining("could not load file");
    }

    @Test
    void includeReadsAnotherFileInPlaceAndStopsAtTenLevels() throws IOException {
        Path inner = write("inner.ini", "[databases]\nbar = host=h\n");
        Path outer = write("outer.ini", "[pgbouncer]\nlisten_port = 1\n%include " + inner + "  \n[pgbouncer]\nlisten_port = 2\n");
        IniParser p = IniParser.read(outer);
        assertThat(p.entries()).extracting(IniEntry::key).containsExactly("listen_port", "bar", "listen_port");
        assertThat(p.entries().get(1).file()).isEqualTo(inner);
        assertThat(p.files()).containsExactly(outer, inner);

        Path loop = write("loop.ini", "[pgbouncer]\n%include " + dir.resolve("loop.ini") + "\n");
        assertThatThrownBy(() -> IniParser.parse(loop)).hasMessageContaining("include nesting level too deep");
        Path missing = write("m.ini", "[pgbouncer]\n%include " + dir.resolve("nope.ini") + "\n");
        assertThatThrownBy(() -> IniParser.parse(missing)).hasMessageContaining("could not load file")
                .hasMessageContaining(missing + ":2");
    }

    @Test
    void connectStringsAsLoaderCReadsThem() {
        assertThat(ConnectString.parse("host=h port = 5433  dbname='a b' password='it''s'"))
                .containsExactly(java.util.Map.entry("host", "h"), java.util.Map.entry("port", "5433"),
                        java.util.Map.entry("dbname", "a b"), java.util.Map.entry("password", "it's"));
        assertThat(ConnectString.parse("")).isEmpty();
        assertThat(ConnectString.parse("host=a host=b")).containsEntry("host", "b");
        assertThatThrownBy(() -> ConnectString.parse("host")).hasMessageContaining("syntax error");
        assertThatThrownBy(() -> ConnectString.parse("host=''")).hasMessageContaining("empty value");
        assertThatThrownBy(() -> ConnectString.parse("host='x")).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> ConnectString.parse("=x")).hasMessageContaining("syntax error");
    }

    @Test
    void numbersAsLibusualParsesThem() {
        assertThat(CNumbers.strtol("0777")).isEqualTo(0777);
        assertThat(CNumbers.strtol("0x10")).isEqualTo(16);
        assertThat(CNumbers.strtol("100")).isEqualTo(100);
        assertThatThrownBy(() -> CNumbers.strtol("10 connections")).isInstanceOf(NumberFormatException.class);
        assertThat(CNumbers.atoi("50x")).isEqualTo(50);
        assertThat(CNumbers.atoi("x")).isZero();
        assertThat(CNumbers.seconds("1.5")).isEqualTo(java.time.Duration.ofMillis(1500));
        assertThat(CNumbers.seconds("600")).isEqualTo(java.time.Duration.ofSeconds(600));
        assertThat(CNumbers.seconds(".25")).isEqualTo(java.time.Duration.ofMillis(250));
        assertThatThrownBy(() -> CNumbers.seconds("10s")).isInstanceOf(NumberFormatException.class);
        assertThatThrownBy(() -> CNumbers.seconds("-1")).isInstanceOf(NumberFormatException.class);
    }
}
