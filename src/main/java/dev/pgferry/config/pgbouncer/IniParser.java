package dev.pgferry.config.pgbouncer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * PgBouncer's ini syntax exactly as libusual's {@code parse_ini_file} reads it (usual/cfparser.c): a comment is a line
 * whose first non-space character is {@code ;} or {@code #} (there are no comments after a value: {@code port = 6432
 * ; x} has the value {@code 6432 ; x}); {@code [section]}; {@code key = value} where the key is letters, digits and
 * {@code _.-*}, or anything but a quote between single quotes ({@code 'my db' = ...}), and the value is the rest of
 * the line without trailing space; {@code %include file} reads another file in place (path as written, relative to
 * the working directory as PgBouncer opens it), at most 10 levels deep. Sections are PgBouncer's four
 * ({@code pgbouncer}, {@code databases}, {@code users}, {@code peers}); a key before any section, an unknown section or
 * a file without {@code [pgbouncer]} is an error, as in PgBouncer's {@code cf_load_file}.
 */
public final class IniParser {
    /** libusual's MAX_INCLUDE. */
    static final int MAX_INCLUDE = 10;
    static final Set<String> SECTIONS = Set.of("pgbouncer", "databases", "users", "peers");

    private final List<IniEntry> entries = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private String section;
    private boolean mainSection;

    private IniParser() {}

    /** Every entry of {@code file} and the files it includes, in reading order. */
    public static List<IniEntry> parse(Path file) {
        return read(file).entries;
    }

    /** The entries and the files read (the main file first, then each include). */
    public static IniParser read(Path file) {
        IniParser p = new IniParser();
        p.file(file, 0);
        if (!p.mainSection) {
            throw new IniException("main section [pgbouncer] missing from config file " + file);
        }
        return p;
    }

    public List<IniEntry> entries() {
        return List.copyOf(entries);
    }

    public List<Path> files() {
        return List.copyOf(files);
    }

    private void file(Path file, int level) {
        String buf;
        try {
            buf = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IniException("could not load file \"" + file + "\": " + e);
        }
        files.add(file);
        int n = buf.length();
        int p = 0;
        while (p < n) {
            while (p < n && isSpace(buf.charAt(p))) {
                p++;
            }
            if (buf.startsWith("%include", p) && p + 8 < n && isBlank(buf.charAt(p + 8))) {
                if (level >= MAX_INCLUDE) {
                    throw new IniException("include nesting level too deep", file, line(buf, p));
                }
                p += 8;
                while (p < n && isBlank(buf.charAt(p))) {
                    p++;
                }
                int start = p;
                while (p < n && buf.charAt(p) != '\n') {
                    p++;
                }
                String name = trimEnd(buf.substring(start, p));
                try {
                    file(Path.of(name), level + 1);
                } catch (IniException e) {
                    throw new IniException(e.getMessage() + "; error processing include file in configuration",
                            file, line(buf, p));
                }
                continue;
            }
            if (p >= n) {
                break;
            }
            char c = buf.charAt(p);
            if (c == '#' || c == ';') {
                while (p < n && buf.charAt(p) != '\n') {
                    p++;
                }
                continue;
            }
            if (c == '[') {
                int start = ++p;
                while (p < n && buf.charAt(p) != ']' && buf.charAt(p) != '\n') {
                    p++;
                }
                if (p >= n || buf.charAt(p) != ']') {
                    throw new IniException("syntax error in configuration", file, line(buf, p));
                }
                String name = buf.substring(start, p);
                if (!SECTIONS.contains(name)) {
                    throw new IniException("invalid section \"" + name + "\" in configuration", file, line(buf, p));
                }
                section = name;
                mainSection |= name.equals("pgbouncer");
                p++;
                continue;
            }
            int keyStart;
            int keyEnd;
            if (c == '\'') {
                keyStart = ++p;
                while (p < n && buf.charAt(p) != '\'') {
                    p++;
                }
                if (p >= n || p == keyStart) {
                    throw new IniException("syntax error in configuration", file, line(buf, p));
                }
                keyEnd = p++;
            } else {
                keyStart = p;
                while (p < n && isKeyChar(buf.charAt(p))) {
                    p++;
                }
                keyEnd = p;
            }
            while (p < n && (buf.charAt(p) == ' ' || buf.charAt(p) == '\t')) {
                p++;
            }
            if (p >= n || buf.charAt(p) != '=') {
                throw new IniException("syntax error in configuration", file, line(buf, p));
            }
            p++;
            while (p < n && (buf.charAt(p) == ' ' || buf.charAt(p) == '\t')) {
                p++;
            }
            int valueStart = p;
            while (p < n && buf.charAt(p) != '\n') {
                p++;
            }
            String key = buf.substring(keyStart, keyEnd);
            String value = trimEnd(buf.substring(valueStart, p));
            int line = line(buf, valueStart);
            if (section == null) {
                throw new IniException("value without section: " + key, file, line);
            }
            entries.add(new IniEntry(file, line, section, key, value));
        }
    }

    /** C's isalnum in the C locale, or one of {@code _.-*}: the characters of an unquoted key. */
    private static boolean isKeyChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "_.-*".indexOf(c) >= 0;
    }

    /** C's isspace: space, \t, \n, \v, \f, \r. */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r';
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static String trimEnd(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    /** 1-based line of position {@code p}, as libusual's count_lines. */
    private static int line(String buf, int p) {
        int line = 1;
        for (int i = 0; i < p && i < buf.length(); i++) {
            if (buf.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
