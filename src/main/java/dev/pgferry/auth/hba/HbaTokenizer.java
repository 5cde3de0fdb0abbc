package dev.pgferry.auth.hba;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits pg_hba.conf text into records as PostgreSQL 15's {@code tokenize_auth_file} and {@code next_token} do: a
 * backslash ending a line continues the record on the next (in comments and quotes too); {@code #} outside quotes
 * starts a comment; fields are separated by blanks; a field is a comma list of tokens ({@code a, b} is one field); a
 * double quote starts or ends quoting, and {@code ""} inside quotes is a literal quote. A quoted token loses any
 * keyword meaning ({@code "all"} is a database named all).
 */
final class HbaTokenizer {
    /** One token: its text and whether any of it was quoted. */
    record Token(String text, boolean quoted) {
        boolean isKeyword(String keyword) {
            return !quoted && text.equals(keyword);
        }
    }

    /** One record: the number of its first physical line and its fields, each a non-empty list of tokens. */
    record Line(int number, List<List<Token>> fields) {}

    private HbaTokenizer() {}

    /** The non-empty records of {@code text}; a problem is an {@link HbaException} naming {@code source}:line. */
    static List<Line> tokenize(String source, String text) throws HbaException {
        List<Line> lines = new ArrayList<>();
        String[] physical = text.split("\r?\n", -1);
        StringBuilder record = new StringBuilder();
        int first = 0;
        for (int i = 0; i < physical.length; i++) {
            String l = physical[i];
            if (record.isEmpty()) {
                first = i + 1;
            }
            if (l.endsWith("\\")) {
                record.append(l, 0, l.length() - 1);
                if (i + 1 < physical.length) {
                    continue;
                }
            } else {
                record.append(l);
            }
            List<List<Token>> fields = fields(source, first, record.toString());
            if (!fields.isEmpty()) {
                lines.add(new Line(first, List.copyOf(fields)));
            }
            record.setLength(0);
        }
        return List.copyOf(lines);
    }

    private static List<List<Token>> fields(String source, int line, String s) throws HbaException {
        List<List<Token>> fields = new ArrayList<>();
        int[] pos = {0};
        while (true) {
            List<Token> field = new ArrayList<>();
            boolean comma;
            do {
                skipBlanks(s, pos);
                Token t = nextToken(source, line, s, pos);
                comma = pos[0] < s.length() && s.charAt(pos[0]) == ',';
                if (comma) {
                    pos[0]++;
                }
                if (t == null) {
                    if (comma || !field.isEmpty()) {
                        throw new HbaException(source, line, "empty item in a comma-separated list");
                    }
                    break;
                }
                field.add(t);
            } while (comma);
            if (field.isEmpty()) {
                return fields;
            }
            fields.add(List.copyOf(field));
        }
    }

    private static void skipBlanks(String s, int[] pos) {
        while (pos[0] < s.length() && isBlank(s.charAt(pos[0]))) {
            pos[0]++;
        }
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
    }

    /** The token at {@code pos} up to a blank or comma outside quotes; null at a comment, a comma or the end. */
    private static Token nextToken(String source, int line, String s, int[] pos) throws HbaException {
        StringBuilder buf = new StringBuilder();
        boolean inQuote = false;
        boolean wasQuote = false;
        boolean sawQuote = false;
        int i = pos[0];
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!inQuote && isBlank(c)) {
                break;
            }
            if (c == '#' && !inQuote) {
                i = s.length();
                break;
            }
            if (c == ',' && !inQuote) {
                break;
            }
            if (c != '"' || wasQuote) {
                buf.append(c);
            }
            wasQuote = inQuote && c == '"' && !wasQuote;
            if (c == '"') {
                inQuote = !inQuote;
                sawQuote = true;
            }
        }
        pos[0] = i;
        if (inQuote) {
            throw new HbaException(source, line, "unterminated quoted string");
        }
        return buf.isEmpty() && !sawQuote ? null : new Token(buf.toString(), sawQuote);
    }
}
