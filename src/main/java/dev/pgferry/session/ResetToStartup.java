package dev.pgferry.session;

import dev.pgferry.session.sql.SqlLexer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A statement that returns a parameter to its default in the middle of a query string ({@code RESET x},
 * {@code SET x TO DEFAULT}, {@code SET LOCAL x TO DEFAULT}, {@code RESET ALL}). On PostgreSQL the default is the
 * session's reset value, which for a startup parameter is the client's startup value (guc.c: a RESET takes
 * {@code reset_val}, set from the StartupMessage with source {@code PGC_S_CLIENT}). A pooled backend's reset value is
 * the server's own, and no SQL can change it ({@code reset_val} moves only for sources up to
 * {@code PGC_S_OVERRIDE}); pgferry's fixup puts the startup value back only when the query string is over, so the
 * statements after the RESET in the same string would read the server's default.
 * <p>
 * So such a statement is followed, in the text sent to the server, by pgferry's own
 * {@code SET [LOCAL] name TO 'startup value'}, one per parameter: as transactional as the RESET (a rollback undoes
 * both; RESET and SET are both {@code GUC_ACTION_SET} at {@code PGC_S_SESSION}), in the same implicit or explicit
 * transaction, and reported to the client (ParameterStatus) only as the final value, as PostgreSQL 14+ reports only
 * before ReadyForQuery. Its answers (CommandComplete) are swallowed ({@link ResetPlan#swallow}), and an error position
 * after it is moved back ({@link ResetPlan#errorWithClientPosition}). One difference is left: {@code pg_settings.source}
 * says {@code session} where PostgreSQL says {@code client} (as after any restore of pgferry's), and
 * {@code current_query()} shows the text sent. A statement last in its string is followed too, so that the client
 * is not sent the server's default first and the startup value after it (see {@link #build}).
 * <p>
 * Left alone (the fixup still runs after the string): a text holding {@code BEGIN ATOMIC} (its body's ';' do not
 * end statements), a DO block's RESET, and a startup value or client text that is not ASCII where the error
 * positions could not be counted. {@code DISCARD ALL} cannot be followed by more statements in a query string
 * (PostgreSQL refuses it inside the implicit transaction block); alone, it is left to the fixup.
 */
final class ResetToStartup extends SqlLexer {

    /**
     * A statement found to return parameters to their defaults: its ordinal, where pgferry's statements go in (after
     * its ';', or after its last token with a ';' first), and what they are.
     */
    private record Found(int ordinal, int cut, String sql, int count, boolean local) {}

    private final SessionParameters params;
    private final boolean utf8;
    private List<Found> found;
    private int ordinal;
    /** Statements in what {@link #sets} returned last. */
    private int statements;
    /** Whether what {@link #statement} returned last is for a SET LOCAL. */
    private boolean local;
    /** Where the last token before the cursor ends ({@link #toStatementEnd}). */
    private int tokenEnd;

    private ResetToStartup(SessionParameters params, boolean utf8) {
        this.params = params;
        this.utf8 = utf8;
    }

    /**
     * The rewrite of the Query text at {@code [from, to)} of {@code in} (a NUL at its end is left out), or null if
     * it needs none: no statement returns a startup parameter of the client to its default before another statement.
     */
    static ResetPlan plan(ByteBuf in, int from, int to, SessionParameters params, boolean inBlock) {
        if (params.startup().isEmpty()) {
            return null;
        }
        int len = to - from;
        if (len > 0 && in.getByte(to - 1) == 0) {
            len--;
        }
        byte[] text = new byte[len];
        in.getBytes(from, text);
        String enc = params.reportedValue("client_encoding");
        return new ResetToStartup(params, enc == null || enc.equalsIgnoreCase("UTF8")).plan(text, inBlock);
    }

    /** As {@link #plan(ByteBuf, int, int, SessionParameters, boolean)}, for a text. */
    static ResetPlan plan(String sql, SessionParameters params, boolean inBlock) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        return params.startup().isEmpty() ? null : new ResetToStartup(params, true).plan(text, inBlock);
    }

    private ResetPlan plan(byte[] text, boolean inBlock) {
        reset(text, 0, text.length);
        found = null;
        ordinal = 0;
        while (true) {
            skipSpaceAndComments();
            if (i >= end || b[i] == 0) {
                break;
            }
            if (b[i] == ';') {
                i++; // an empty statement: the grammar drops it, it gets no CommandComplete
                continue;
            }
            if (ordinal == 0 && discardAll()) {
                release();
                return new ResetPlan(null, new int[0], new int[0], new int[0], new int[0]);
            }
            StringBuilder sql = statement();
            if (!toStatementEnd()) {
                release();
                return null;
            }
            if (sql != null) {
                if (found == null) {
                    found = new ArrayList<>(2);
                }
                boolean semicolon = i < end && b[i] == ';';
                String add = semicolon ? sql.toString() : ";" + sql;
                found.add(new Found(ordinal, semicolon ? i + 1 : tokenEnd, add, statements, local));
            }
            ordinal++;
            if (i < end) {
                i++; // the ';'
            }
        }
        ResetPlan plan = found == null ? null : build(inBlock);
        release();
        return plan;
    }

    /**
     * The text a Parse of {@code [from, to)} of {@code in} sends instead, or null: for one {@code RESET name},
     * {@code SET [LOCAL] name TO DEFAULT} of a startup parameter, {@code SET [LOCAL] name TO 'startup value'}. A
     * statement of the extended protocol cannot be followed by another, so it is replaced; its tag is {@code SET},
     * which the Execute of a RESET answers as {@code RESET} ({@link Parsed#tagReset}). The statement on the server
     * has the value in its text, so clients with other startup values never share it. {@code RESET ALL} is left to
     * the fixup (no single statement does what it does and more).
     */
    static Parsed parse(ByteBuf in, int from, int to, SessionParameters params) {
        if (params.startup().isEmpty()) {
            return null;
        }
        byte[] text = new byte[Math.max(0, to - from)];
        in.getBytes(from, text);
        ResetToStartup r = new ResetToStartup(params, true);
        Parsed p = r.parsed(text);
        r.release();
        return p;
    }

    /** What a Parse sends instead ({@link #parse}); {@code tagReset}: its Execute's tag is to read RESET. */
    record Parsed(byte[] text, boolean tagReset) {}

    private Parsed parsed(byte[] text) {
        int n = text.length;
        while (n > 0 && text[n - 1] == 0) {
            n--;
        }
        reset(text, 0, n);
        skipSpaceAndComments();
        int w = wordEnd(i);
        boolean tagReset = is(i, w, "reset");
        if (tagReset) {
            int save = i;
            i = w;
            if ("all".equals(nextWord())) {
                return null;
            }
            i = save;
        }
        StringBuilder sql = statement();
        if (sql == null || statements != 1 || !toStatementEnd()) {
            return null;
        }
        if (i < end && b[i] == ';') {
            i++;
        }
        skipSpaceAndComments();
        if (i < end) {
            return null; // more than one statement: the server refuses it as it is
        }
        for (int c = 0; c < sql.length(); c++) {
            if (sql.charAt(c) > 0x7e) {
                return null;
            }
        }
        sql.setLength(sql.length() - 1); // its ';'
        return new Parsed(sql.toString().getBytes(StandardCharsets.US_ASCII), tagReset);
    }

    /** Whether the text is one {@code DISCARD ALL} and nothing else; moves the cursor only if it is not. */
    private boolean discardAll() {
        int save = i;
        if ("discard".equals(nextWord()) && "all".equals(nextWord())) {
            skipSpaceAndComments();
            if (i < end && b[i] == ';') {
                i++;
                skipSpaceAndComments();
            }
            if (i >= end || b[i] == 0) {
                return true;
            }
        }
        i = save;
        return false;
    }

    /**
     * The statement at the cursor: pgferry's statement to follow it if it returns startup parameters to their
     * defaults, else null. Moves the cursor over the words it read.
     */
    private StringBuilder statement() {
        String w = nextWord();
        if ("reset".equals(w)) {
            String name = nextWord();
            if (name == null || "role".equals(name) || "session".equals(name)) {
                return null;
            }
            if ("all".equals(name)) {
                return sets(new ArrayList<>(params.startup().keySet()), false);
            }
            return sets(List.of("time".equals(name) ? "timezone" : dotted(name)), false);
        }
        if (!"set".equals(w)) {
            return null;
        }
        String name = nextWord();
        boolean local = false;
        if ("local".equals(name) || "session".equals(name)) {
            local = "local".equals(name);
            name = nextWord();
        }
        if (name == null || "transaction".equals(name) || "characteristics".equals(name) || "role".equals(name)
                || "authorization".equals(name) || "constraints".equals(name)) {
            return null;
        }
        if ("time".equals(name)) {
            if (!"zone".equals(nextWord())) {
                return null;
            }
            name = "timezone";
            skipSpaceAndComments();
        } else {
            name = dotted(name);
            skipSpaceAndComments();
            if (i < end && b[i] == '=') {
                i++;
            } else if (!"to".equals(nextWord())) {
                return null;
            }
            skipSpaceAndComments();
        }
        int w2 = wordEnd(i);
        if (!is(i, w2, "default") && !(name.equals("timezone") && is(i, w2, "local"))) {
            return null;
        }
        i = w2;
        skipSpaceAndComments();
        if (i < end && b[i] != ';') {
            return null;
        }
        return sets(List.of(name), local);
    }

    /**
     * {@code SET [LOCAL] name TO 'startup value';} for each of {@code names} that has one ({@link #statements} of
     * them), or null if none does (or a value cannot be written so). A SET, not {@code set_config()}: a SELECT would
     * take a snapshot, after which a {@code START TRANSACTION ISOLATION LEVEL} in the same string fails (25001).
     */
    private StringBuilder sets(List<String> names, boolean local) {
        StringBuilder sql = null;
        statements = 0;
        this.local = local;
        for (String raw : names) {
            String k = params.canonical(raw);
            String v = params.startup().get(k);
            if (v == null) {
                continue;
            }
            String value = value(k, v);
            if (value == null) {
                return null;
            }
            sql = sql == null ? new StringBuilder() : sql;
            sql.append(local ? "SET LOCAL " : "SET ");
            String[] parts = k.split("\\.", -1);
            for (int p = 0; p < parts.length; p++) {
                sql.append(p == 0 ? "" : ".").append(SessionParameters.ident(parts[p]));
            }
            sql.append(" TO ").append(value).append(';');
            statements++;
        }
        return sql;
    }

    /**
     * {@code v} as the value of a SET that gives {@code name} the same setting as the StartupMessage did. Parameters
     * whose SET quotes each list element as an identifier (guc.c's {@code GUC_LIST_QUOTE}: search_path,
     * temp_tablespaces, the preload libraries) take a list of plain lower-case names only, each as written; null for
     * any other value of theirs (left to the fixup).
     */
    private static String value(String name, String v) {
        if (LIST_QUOTE.contains(name.toLowerCase(java.util.Locale.ROOT))) {
            if (!PLAIN_NAMES.matcher(v).matches()) {
                return null;
            }
            StringBuilder list = new StringBuilder();
            for (String element : v.split(", ")) {
                list.append(list.length() == 0 ? "" : ", ").append('\'').append(element).append('\'');
            }
            return list.toString();
        }
        return SessionParameters.literal(v);
    }

    private static final java.util.Set<String> LIST_QUOTE = java.util.Set.of("search_path", "temp_tablespaces",
            "session_preload_libraries", "local_preload_libraries");
    private static final java.util.regex.Pattern PLAIN_NAMES =
            java.util.regex.Pattern.compile("[a-z_][a-z0-9_]*(, [a-z_][a-z0-9_]*)*");

    /**
     * Moves the cursor to the ';' that ends the statement (or the text's end); false if the statement's end cannot
     * be told by this reading: a {@code BEGIN ATOMIC} body, whose ';' stay inside.
     */
    private boolean toStatementEnd() {
        tokenEnd = i;
        while (i < end) {
            byte c = b[i];
            if (c == ';') {
                return true;
            }
            if (c == 0) {
                i = end;
                return true;
            }
            int after = spaceAndCommentsEnd(i);
            if (after > i) {
                i = after; // not a token: pgferry's ';' goes before a trailing comment
                continue;
            }
            if (!skipQuoteOrComment()) {
                int w = wordEnd(i);
                if (w > i) {
                    if (is(i, w, "atomic")) {
                        return false;
                    }
                    i = w;
                } else {
                    i++;
                }
            }
            tokenEnd = i;
        }
        return true;
    }

    /**
     * The text with pgferry's statements inserted after every statement found. Also after the last one of the string,
     * although the fixup would put the value right before anything else runs: the server then reports
     * (ParameterStatus) only the value PostgreSQL would, not the server's default first. But not after a SET LOCAL
     * last in a string outside a transaction block ({@code inBlock}): a string of several statements runs in an
     * implicit block, where it would not warn 25P01 as it does alone, and its value is gone at the string's end
     * anyway.
     */
    private ResetPlan build(boolean inBlock) {
        List<Found> kept = new ArrayList<>(found.size());
        for (Found f : found) {
            if (!f.local || inBlock || f.ordinal < ordinal - 1) {
                kept.add(f);
            }
        }
        if (kept.isEmpty()) {
            return null;
        }
        int n = kept.size();
        int[] after = new int[n];
        int[] at = new int[n];
        int[] len = new int[n];
        int[] count = new int[n];
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(end + 64 * n);
        int copied = 0;
        int chars = 0;
        for (int k = 0; k < n; k++) {
            Found f = kept.get(k);
            int cut = f.cut;
            int counted = chars(copied, cut);
            if (counted < 0) {
                return null;
            }
            chars += counted;
            out.write(b, copied, cut - copied);
            copied = cut;
            for (int c = 0; c < f.sql.length(); c++) {
                if (f.sql.charAt(c) > 0x7e) {
                    return null; // a value pgferry would have to encode in the client's encoding
                }
            }
            after[k] = f.ordinal;
            at[k] = chars;
            len[k] = f.sql.length();
            count[k] = f.count;
            chars += len[k];
            byte[] sql = f.sql.getBytes(StandardCharsets.US_ASCII);
            out.write(sql, 0, sql.length);
        }
        out.write(b, copied, end - copied);
        return new ResetPlan(out.toByteArray(), after, at, len, count);
    }

    /** Characters in {@code b[from, to)} as the server counts them; -1 if that cannot be told (not UTF-8). */
    private int chars(int from, int to) {
        int n = 0;
        for (int k = from; k < to; k++) {
            byte c = b[k];
            if (c < 0 && !utf8) {
                return -1;
            }
            if ((c & 0xc0) != 0x80) {
                n++;
            }
        }
        return n;
    }
}
