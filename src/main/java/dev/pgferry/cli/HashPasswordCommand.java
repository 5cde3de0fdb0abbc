package dev.pgferry.cli;

import dev.pgferry.auth.ScramKeys;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * {@code java -jar quarkus-run.jar hash-password USER}: reads a password and prints the users-file line for it,
 * {@code "USER" "SCRAM-SHA-256$4096:salt$StoredKey:ServerKey"}, the verifier PostgreSQL itself would store for that
 * password (random 16-byte salt, 4096 iterations, SASLprep as {@code scram_build_secret}), so the file holds no
 * password. From a terminal the password is asked twice without echo, as {@code createuser -P} asks; otherwise the
 * first line of standard input is the password (for scripts: {@code printf '%s\n' "$PW" | java -jar … hash-password
 * app}).
 */
final class HashPasswordCommand {
    static final String NAME = "hash-password";

    private HashPasswordCommand() {}

    /** Returns the exit code: 0 with the line printed, 1 when no usable password came, 2 for a usage error. */
    static int run(String[] args, Console console, InputStream in, PrintStream out, PrintStream err) {
        if (args.length != 1 || args[0].isEmpty() || args[0].startsWith("-")) {
            err.println("usage: java -jar quarkus-run.jar " + NAME + " USER");
            err.println("Reads the password from the terminal (or the first line of standard input) and prints the"
                    + " userlist.txt line with its SCRAM-SHA-256 verifier.");
            return 2;
        }
        String user = args[0];
        char[] password;
        try {
            password = console != null ? askTwice(console, user, err) : firstLine(in);
        } catch (IOException e) {
            err.println(NAME + ": cannot read the password: " + e.getMessage());
            return 1;
        }
        if (password == null) {
            return 1;
        }
        if (password.length == 0) {
            err.println(NAME + ": empty password: PostgreSQL refuses empty passwords");
            return 1;
        }
        byte[] salt = new byte[ScramKeys.DEFAULT_SALT_LENGTH];
        new SecureRandom().nextBytes(salt);
        String verifier = ScramKeys.derive(new String(password), salt, ScramKeys.DEFAULT_ITERATIONS).toSecret()
                .toSecretString();
        Arrays.fill(password, '\0');
        out.println(quoted(user) + " " + quoted(verifier));
        return 0;
    }

    private static char[] askTwice(Console console, String user, PrintStream err) {
        char[] first = console.readPassword("Enter password for %s: ", user);
        char[] second = first == null ? null : console.readPassword("Enter it again: ");
        if (first == null || second == null) {
            err.println(NAME + ": no password read");
            return null;
        }
        boolean same = Arrays.equals(first, second);
        Arrays.fill(second, '\0');
        if (!same) {
            Arrays.fill(first, '\0');
            err.println(NAME + ": passwords didn't match");
            return null;
        }
        return first;
    }

    private static char[] firstLine(InputStream in) throws IOException {
        String line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
        return line == null ? new char[0] : line.toCharArray();
    }

    /** A users-file field: double quotes, a quote inside doubled (PgBouncer's userlist.txt). */
    private static String quoted(String value) {
        return '"' + value.replace("\"", "\"\"") + '"';
    }
}
