package dev.pgferry.session.sql;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A cursor over the bytes of SQL text that knows PostgreSQL's lexical rules as far as a statement classifier
 * needs them: whitespace, {@code --} and nested {@code /* *}{@code /} comments, {@code '…'} literals with doubled
 * quotes, {@code E'…'} literals with backslash escapes, {@code "…"} identifiers and {@code $tag$…$tag$} dollar
 * quotes. It is not a tokenizer of the whole grammar: operators, numbers and punctuation are left to the caller.
 * <p>
 * Plain {@code '…'} literals are read as with {@code standard_conforming_strings = on} (the default since
 * PostgreSQL 9.1): a backslash in them is an ordinary character. With the setting off, a literal holding
 * {@code \'} ends later than read here, so a keyword inside it may be taken for a statement's.
 * <p>
 * The text is a byte array scanned in place, without bounds-checked reads; the classifier extends this class
 * because it moves the cursor itself (it rescans ranges, such as a {@code DO} block's body, of the same bytes).
 * Not thread-safe: one instance per thread, reset per text.
 */
public class SqlLexer {
    /** The text: {@code b[start, end)}; bytes before {@code start} (a message's header) are never looked at. */
    protected byte[] b;
    protected int start;
    protected int end;
    /** The cursor. */
    protected int i;

    /** Scans {@code text[from, to)} from its start. */
    public final void reset(byte[] text, int from, int to) {
        b = text;
        start = from;
        end = to;
        i = from;
    }

    /** Drops the reference to the text (a large one is not kept alive by a per-thread instance). */
    protected final void release() {
        b = null;
    }

    public final int position() {
        return i;
    }

    public final int end() {
        return end;
    }

    public final int indexOf(int from, int to, byte value) {
        for (int k = from; k < to; k++) {
            if (b[k] == value) {
                return k;
            }
        }
        return -1;
    }

    /** Letters, digits, {@code _}, non-ASCII bytes (UTF-8 letters): what identifiers and keywords are made of. */
    public static boolean isWordByte(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9') || c < 0;
    }

    /** The end of the bare word at {@code from}: {@code from} itself if none starts there (a digit or '$' cannot). */
    public final int wordEnd(int from) {
        int j = from;
        while (j < end) {
            byte c = b[j];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9' && j > from)
                    || c < 0 || (c == '$' && j > from)) {
                j++;
            } else {
                break;
            }
        }
        return j;
    }

    /** Whether {@code b[s, e)} is the lower-case ASCII keyword {@code kw}, case-insensitively. */
    public final boolean is(int s, int e, String kw) {
        if (e - s != kw.length()) {
            return false;
        }
        for (int k = 0; k < kw.length(); k++) {
            byte c = b[s + k];
            // fold only letters: '_' | 0x20 would become DEL and never match
            if (c >= 'A' && c <= 'Z') {
                c |= 0x20;
            }
            if (c != kw.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** Moves the cursor past whitespace and comments. */
    public final void skipSpaceAndComments() {
        i = spaceAndCommentsEnd(i);
    }

    /** Where the whitespace and comments from {@code from} end; an unterminated comment runs to the end. */
    public final int spaceAndCommentsEnd(int from) {
        int j = from;
        while (j < end) {
            byte c = b[j];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                j++;
            } else if (c == '-' && j + 1 < end && b[j + 1] == '-') {
                int nl = indexOf(j, end, (byte) '\n');
                j = nl < 0 ? end : nl + 1;
            } else if (c == '/' && j + 1 < end && b[j + 1] == '*') {
                j = blockCommentEnd(j);
            } else {
                return j;
            }
        }
        return j;
    }

    /** Block comments nest in PostgreSQL ({@code scan.l}'s xc state counts the depth), unlike in the standard. */
    private int blockCommentEnd(int from) {
        int depth = 0;
        int j = from;
        while (j < end) {
            byte c = b[j];
            if (c == '/' && j + 1 < end && b[j + 1] == '*') {
                depth++;
                j += 2;
            } else if (c == '*' && j + 1 < end && b[j + 1] == '/') {
                depth--;
                j += 2;
                if (depth == 0) {
                    return j;
                }
            } else {
                j++;
            }
        }
        return j;
    }

    /**
     * Moves past the literal, quoted identifier, dollar quote or comment (with the space after a comment) at the
     * cursor; returns false, moving nothing, if none starts there.
     */
    public final boolean skipQuoteOrComment() {
        byte c = b[i];
        if (c == '\'' || c == '"') {
            skipQuoted(c, c == '\'' && opensEscapeString(i));
            return true;
        }
        if (c == '$') {
            return skipDollarQuote();
        }
        if (c == '-' || c == '/') {
            int before = i;
            skipSpaceAndComments();
            return i != before;
        }
        return false;
    }

    /**
     * The next word after spaces and comments, lower-cased, or a {@code "quoted"} identifier as written; null,
     * having skipped only the spaces and comments, if the next token is neither.
     */
    public final String nextWord() {
        skipSpaceAndComments();
        if (i < end && b[i] == '"') {
            int close = indexOf(i + 1, end, (byte) '"');
            if (close < 0) {
                return null;
            }
            String s = new String(b, i + 1, close - i - 1, StandardCharsets.UTF_8);
            i = close + 1;
            return s;
        }
        int w = wordEnd(i);
        if (w == i) {
            return null;
        }
        String s = new String(b, i, w - i, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
        i = w;
        return s;
    }

    /**
     * The rest of a parameter name that may be qualified ({@code myapp.setting}), {@code first} being its first word,
     * just read: each further {@code .word} is read and appended.
     */
    public final String dotted(String first) {
        StringBuilder name = new StringBuilder(first);
        while (i < end && b[i] == '.') {
            i++;
            String part = nextWord();
            if (part == null) {
                break;
            }
            name.append('.').append(part);
        }
        return name.toString();
    }

    /** Whether the {@code '} at {@code quote} opens an {@code E'…'} literal: an E before it that is a word alone. */
    public final boolean opensEscapeString(int quote) {
        return quote > start && (b[quote - 1] | 0x20) == 'e' && (quote - 1 == start || !isWordByte(b[quote - 2]));
    }

    /**
     * Moves the cursor from the opening quote {@code q} past the closing one; a doubled quote stays inside, and with
     * {@code backslashEscapes} (an {@code E''} literal) so does any escaped byte. Unterminated: to the end.
     */
    public final void skipQuoted(byte q, boolean backslashEscapes) {
        i++;
        while (i < end) {
            byte c = b[i];
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == q) {
                if (i + 1 < end && b[i + 1] == q) {
                    i += 2;
                } else {
                    i++;
                    return;
                }
            } else {
                i++;
            }
        }
    }

    /**
     * At a '$': moves the cursor past {@code $tag$ … $tag$} (to the end if unterminated) and returns true, or
     * returns false, moving nothing, if this '$' opens none (a parameter {@code $1}, or part of {@code a$b}).
     */
    public final boolean skipDollarQuote() {
        if (i > start && isWordByte(b[i - 1])) {
            return false;
        }
        int j = i + 1;
        while (j < end && isWordByte(b[j]) && !(j == i + 1 && b[j] >= '0' && b[j] <= '9')) {
            j++;
        }
        if (j >= end || b[j] != '$') {
            return false;
        }
        int tagLen = j - i + 1;
        int k = j + 1;
        while (k + tagLen <= end) {
            int close = indexOf(k, end, (byte) '$');
            if (close < 0 || close + tagLen > end) {
                break;
            }
            boolean match = true;
            for (int t = 0; t < tagLen; t++) {
                if (b[close + t] != b[i + t]) {
                    match = false;
                    break;
                }
            }
            if (match) {
                i = close + tagLen;
                return true;
            }
            k = close + 1;
        }
        i = end;
        return true;
    }

    /**
     * The text range {@code [from, to)} of the string literal at the cursor ({@code '...'}, {@code E'...'} or
     * {@code $tag$...$tag$}), moving the cursor after it; null, moving nothing, if no literal starts here. Doubled
     * quotes and escapes inside stay as written: harmless to a classifier that only looks for statements.
     */
    public final int[] literalBody() {
        int at = i;
        boolean escapes = false;
        if (at + 1 < end && (b[at] | 0x20) == 'e' && b[at + 1] == '\'') {
            escapes = true;
            at++;
        }
        if (at < end && b[at] == '\'') {
            i = at;
            skipQuoted((byte) '\'', escapes);
            i = Math.min(i, end);
            boolean closed = i > at + 1 && b[i - 1] == '\'';
            return new int[] {at + 1, closed ? i - 1 : i};
        }
        if (at < end && b[at] == '$') {
            int tagEnd = indexOf(at + 1, end, (byte) '$');
            if (tagEnd < 0 || !skipDollarQuote()) {
                return null;
            }
            int tagLen = tagEnd - at + 1;
            return new int[] {at + tagLen, Math.max(at + tagLen, i - tagLen)};
        }
        return null;
    }
}
