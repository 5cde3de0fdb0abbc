package dev.pgferry.auth;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parser of PgBouncer's {@code auth_file} ({@code userlist.txt}) format, as {@code loader.c} reads it:
 * <pre>
 * "user" "secret"   anything after the second field is ignored
 * ; comment         (also '#'); blank lines are ignored
 * </pre>
 * Inside quotes a doubled {@code ""} is a literal quote. Fields are separated by anything that is not
 * a quote (PgBouncer skips to the next quote). A later entry for the same user replaces an earlier
 * one, as PgBouncer's {@code add_user} does. Unlike PgBouncer, which stops reading at the first
 * broken line, a bad line is an error naming its number, so a typo cannot silently drop users.
 */
public final class UserList {

    private UserList() {
    }

    /**
     * @return user → secret, in file order, unmodifiable
     * @throws IllegalArgumentException "line N: …" for a malformed line or secret
     */
    public static Map<String, UserSecret> parse(Reader reader) throws IOException {
        BufferedReader lines = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        Map<String, UserSecret> users = new LinkedHashMap<>();
        int lineNumber = 0;
        for (String line; (line = lines.readLine()) != null; ) {
            lineNumber++;
            if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1); // a UTF-8 byte-order mark
            }
            parseLine(line, lineNumber, users);
        }
        return Collections.unmodifiableMap(users);
    }

    private static void parseLine(String line, int lineNumber, Map<String, UserSecret> users) {
        int pos = 0;
        while (pos < line.length() && Character.isWhitespace(line.charAt(pos))) {
            pos++;
        }
        if (pos == line.length() || line.charAt(pos) == ';' || line.charAt(pos) == '#') {
            return;
        }
        if (line.charAt(pos) != '"') {
            throw error(lineNumber, "expected a quoted user name");
        }
        StringBuilder user = new StringBuilder();
        pos = readQuoted(line, pos + 1, user, lineNumber, "user name");
        if (user.length() == 0) {
            throw error(lineNumber, "empty user name");
        }
        int secretStart = line.indexOf('"', pos);
        if (secretStart < 0) {
            throw error(lineNumber, "expected a quoted secret after the user name");
        }
        StringBuilder secret = new StringBuilder();
        readQuoted(line, secretStart + 1, secret, lineNumber, "secret");
        try {
            users.put(user.toString(), UserSecret.parse(secret.toString()));
        } catch (IllegalArgumentException e) {
            throw error(lineNumber, e.getMessage());
        }
    }

    /** Reads up to the closing quote; returns the index after it. */
    private static int readQuoted(String line, int pos, StringBuilder out, int lineNumber, String what) {
        while (pos < line.length()) {
            char c = line.charAt(pos);
            if (c == '"') {
                if (pos + 1 < line.length() && line.charAt(pos + 1) == '"') {
                    out.append('"');
                    pos += 2;
                    continue;
                }
                return pos + 1;
            }
            out.append(c);
            pos++;
        }
        throw error(lineNumber, "unterminated quoted " + what);
    }

    private static IllegalArgumentException error(int lineNumber, String message) {
        return new IllegalArgumentException("line " + lineNumber + ": " + message);
    }
}
