package dev.pgferry.session;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A small lexer over the SQL of a Query or Parse message that finds what changes session state: {@code SET}
 * and {@code RESET} of parameters (tracked and restored), and what cannot move between backends (pins):
 * {@code LISTEN}, SQL {@code PREPARE}, {@code DECLARE … WITH HOLD}, temporary tables, session advisory locks,
 * {@code LOAD}, {@code set_config()}, {@code SET ROLE}/{@code SESSION AUTHORIZATION}. It respects quotes,
 * dollar quotes and comments; it is not a parser, and anything it cannot classify is left alone.
 * The body of a {@code DO} block is looked into as well (its statements run in the client's session): the
 * same statements count there, and dynamic SQL ({@code EXECUTE} of anything but a literal) pins, since what it
 * runs cannot be known. Functions and procedures the SQL calls are not looked into.
 * Returns null — no allocation — for the common statement that touches no session state.
 */
public final class StatementInspector {

    /** What one message's SQL does to session state. */
    public static final class Findings {
        public String pinReason;
        /** Every parameter SET or RESET in the transaction. */
        public final Set<String> touched = new LinkedHashSet<>(2);
        /** Parameters whose last change in the transaction was a RESET: they are back at the session default. */
        public final Set<String> resetNames = new LinkedHashSet<>(1);
        public boolean resetAll;
        /** With {@link #resetAll}: parameters SET after the transaction's last RESET ALL, which keep that value. */
        public final Set<String> setAfterResetAll = new LinkedHashSet<>(1);
        /** DISCARD ALL or DEALLOCATE ALL: the server drops every prepared statement of the session. */
        public boolean dropsPrepared;
        /**
         * The statement may load a library into the backend, which no reset unloads: {@code LOAD}, a {@code DO} block
         * (its language's handler) and {@code CREATE FUNCTION}/{@code PROCEDURE} (the language's validator, or the
         * object file of a C function). See {@link SessionReset}.
         */
        public boolean loadsLibrary;
        /**
         * The SETs and RESETs of a query string's statements after its next transaction end (COMMIT, ROLLBACK,
         * ROLLBACK TO SAVEPOINT, their synonyms), which PostgreSQL keeps or reverts apart from these: a chain, one
         * link per transaction end, in order (see {@link TransactionEffects}). Pins, dropped statements and loaded
         * libraries are always on the first link.
         */
        public Findings next;
        /** On a link of {@link #next}: how the statements before it ended, {@link #COMMIT}, {@link #ROLLBACK} or
         * {@link #ROLLBACK_TO}. */
        public byte endedBy;

        public static final byte COMMIT = 'C';
        public static final byte ROLLBACK = 'R';
        public static final byte ROLLBACK_TO = 'S';

        /** SET {@code name}: later than any RESET of it before. */
        public void set(String name) {
            touched.add(name);
            resetNames.remove(name);
            if (resetAll) {
                setAfterResetAll.add(name);
            }
        }

        /** RESET {@code name}: later than any SET of it before. */
        public void reset(String name) {
            touched.add(name);
            resetNames.add(name);
            setAfterResetAll.remove(name);
        }

        /** RESET ALL or DISCARD ALL: every parameter back at its session default, whatever came before. */
        public void resetAll() {
            resetAll = true;
            resetNames.clear();
            setAfterResetAll.clear();
        }

        /** Merges what a later message of the same transaction found: its SETs and RESETs come after these. */
        public void add(Findings o) {
            if (pinReason == null) {
                pinReason = o.pinReason;
            }
            if (o.resetAll) {
                resetAll();
            }
            for (String n : o.touched) {
                if (!o.resetNames.contains(n) && !(o.resetAll && !o.setAfterResetAll.contains(n))) {
                    set(n); // o's last word on n was a SET (after o's RESET ALL, if any)
                }
            }
            for (String n : o.resetNames) {
                reset(n);
            }
            touched.addAll(o.touched);
            dropsPrepared |= o.dropsPrepared;
            loadsLibrary |= o.loadsLibrary;
        }

        @Override
        public String toString() {
            return "pin=" + pinReason + " touched=" + touched + " resetAll=" + resetAll;
        }
    }

    /** Reused per thread: the SQL is copied once into a byte array and scanned there (no bounds-checked reads). */
    private static final io.netty.util.concurrent.FastThreadLocal<StatementInspector> PER_THREAD =
            new io.netty.util.concurrent.FastThreadLocal<>() {
                @Override
                protected StatementInspector initialValue() {
                    return new StatementInspector();
                }
            };
    private static final int KEPT_SCRATCH = 8192;

    private byte[] scratch = new byte[256];
    private byte[] b;
    /** Where the SQL starts: bytes before it (a message's length field) are not SQL and must not be looked at. */
    private int start;
    private int end;
    private int i;
    private Findings f;
    private Findings link;
    /** Transaction ends since {@link #link} began, not yet linked (nothing was found after them yet). */
    private int breaks;
    private byte[] breakKinds = new byte[4];
    /** Inside a DO block's body: block words (BEGIN, THEN, ELSE, LOOP) start statements there. */
    private boolean inBody;
    /** DO blocks and EXECUTEd literals looked into, nested; past {@link #MAX_NESTING} the session is pinned. */
    private int nesting;
    private static final int MAX_NESTING = 4;

    private StatementInspector() {}

    /** Inspects the SQL text in {@code [from, end)} (a NUL terminator, if included, ends it). */
    public static Findings inspect(ByteBuf buf, int from, int end) {
        StatementInspector s = PER_THREAD.get();
        int len = Math.max(0, end - from);
        byte[] a = len <= s.scratch.length ? s.scratch : new byte[len];
        if (a != s.scratch && len <= KEPT_SCRATCH) {
            s.scratch = a;
        }
        buf.getBytes(from, a, 0, len);
        s.b = a;
        s.start = 0;
        s.i = 0;
        s.end = len;
        s.f = null;
        s.link = null;
        s.breaks = 0;
        s.inBody = false;
        s.nesting = 0;
        s.run();
        Findings found = s.f;
        s.f = null;
        s.link = null;
        s.b = null;
        return found;
    }

    public static Findings inspect(String sql) {
        ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(sql.getBytes(StandardCharsets.UTF_8));
        return inspect(buf, 0, buf.writerIndex());
    }

    private int indexOf(int from, int to, byte value) {
        for (int k = from; k < to; k++) {
            if (b[k] == value) {
                return k;
            }
        }
        return -1;
    }

    /** Where SETs and RESETs go: the link of {@link Findings#next} after the transaction ends seen so far. */
    private Findings findings() {
        Findings x = head();
        for (int k = 0; k < breaks; k++) {
            Findings n = new Findings();
            n.endedBy = breakKinds[k];
            link.next = n;
            link = n;
        }
        breaks = 0;
        return link;
    }

    /** What the whole query string does: pins, dropped statements, loaded libraries, and its first link. */
    private Findings head() {
        if (f == null) {
            f = new Findings();
            link = f;
        }
        return f;
    }

    /** COMMIT, ROLLBACK (TO SAVEPOINT) and their synonyms, at the top level: a link begins for what follows. */
    private void transactionEnd(int s, int w) {
        byte kind;
        if (is(s, w, "commit") || is(s, w, "end")) {
            kind = Findings.COMMIT;
        } else if (is(s, w, "rollback") || is(s, w, "abort")) {
            kind = Findings.ROLLBACK;
        } else {
            return;
        }
        int save = i;
        skipSpaceAndComments();
        int e = wordEnd(i);
        if (is(i, e, "work") || is(i, e, "transaction")) {
            i = e;
            skipSpaceAndComments();
            e = wordEnd(i);
        }
        boolean prepared = is(i, e, "prepared");
        boolean to = is(i, e, "to");
        i = save;
        if (prepared) {
            return; // COMMIT/ROLLBACK PREPARED: another transaction, and not allowed inside one
        }
        if (to) {
            kind = Findings.ROLLBACK_TO;
        }
        if (breaks == breakKinds.length) {
            breakKinds = java.util.Arrays.copyOf(breakKinds, breaks * 2);
        }
        breakKinds[breaks++] = kind;
    }

    private void pin(String reason) {
        Findings x = head();
        if (x.pinReason == null) {
            x.pinReason = reason;
        }
    }

    private void run() {
        while (i < end) {
            skipSpaceAndComments();
            while (i < end && b[i] == '(') {
                i++;
                skipSpaceAndComments();
            }
            if (i >= end || b[i] == 0) {
                return;
            }
            statement();
            skipToStatementEnd();
        }
    }

    private void statement() {
        int w = wordEnd(i);
        while (inBody && w > i && (isBlockWord(i, w) || is(i, w, "declare"))) {
            i = w;
            skipSpaceAndComments();
            w = wordEnd(i);
        }
        if (w == i) {
            return;
        }
        int s = i;
        i = w;
        if (!inBody) {
            transactionEnd(s, w);
        }
        if (is(s, w, "set")) {
            set();
        } else if (is(s, w, "reset")) {
            reset();
        } else if (is(s, w, "discard")) {
            String what = nextWord();
            if ("all".equals(what)) {
                findings().resetAll();
                head().dropsPrepared = true;
            }
        } else if (is(s, w, "deallocate")) {
            String what = nextWord();
            if ("prepare".equals(what)) {
                what = nextWord();
            }
            if ("all".equals(what)) {
                head().dropsPrepared = true;
            }
        } else if (is(s, w, "listen")) {
            pin("LISTEN");
        } else if (is(s, w, "prepare")) {
            String next = nextWord();
            if (!"transaction".equals(next)) {
                pin("SQL PREPARE");
            }
        } else if (is(s, w, "load")) {
            head().loadsLibrary = true;
            pin("LOAD");
        } else if (is(s, w, "declare")) {
            declare();
        } else if (is(s, w, "create")) {
            create();
        } else if (is(s, w, "do") && !inBody) {
            head().loadsLibrary = true;
            doBlock();
        } else if (is(s, w, "execute") && inBody) {
            dynamicSql();
        }
    }

    /**
     * {@code DO [LANGUAGE name] code [LANGUAGE name]}: the code's statements run in the session, so they are
     * inspected like top-level ones (a PL/pgSQL {@code SET search_path} is tracked, {@code PERFORM
     * set_config(...)} pins). Scanned in place: the body is a range of the same buffer.
     */
    private void doBlock() {
        skipSpaceAndComments();
        int w = wordEnd(i);
        if (w > i && is(i, w, "language")) {
            i = w;
            nextWord();
            skipSpaceAndComments();
        }
        int[] body = literalBody();
        if (body != null) {
            scanRange(body, true);
        }
    }

    /** Runs the lexer over {@code range} of the same bytes, then goes on after the literal it came from. */
    private void scanRange(int[] range, boolean body) {
        if (nesting == MAX_NESTING) {
            pin("deeply nested dynamic SQL");
            return;
        }
        int after = i;
        int outerEnd = end;
        boolean outerBody = inBody;
        nesting++;
        i = range[0];
        end = range[1];
        inBody = body;
        try {
            run();
        } finally {
            nesting--;
            inBody = outerBody;
            i = after;
            end = outerEnd;
        }
    }

    /**
     * PL/pgSQL {@code EXECUTE}: a literal string is SQL that can be inspected; any other expression (format(),
     * concatenation, a variable) is SQL nobody can see before it runs, so the session is pinned.
     */
    private void dynamicSql() {
        skipSpaceAndComments();
        int[] lit = literalBody();
        if (lit != null) {
            skipSpaceAndComments();
            int w = wordEnd(i);
            boolean alone = i >= end || b[i] == ';' || (w > i && (is(i, w, "into") || is(i, w, "using")));
            if (alone) {
                scanRange(lit, false);
                return;
            }
        }
        pin("dynamic SQL in a DO block");
    }

    /**
     * The text range of the string literal at {@code i} ({@code '...'}, {@code E'...'} or {@code $tag$...$tag$}),
     * leaving {@code i} after it; null, consuming nothing, if no literal starts here. Doubled quotes inside a
     * quoted literal stay doubled in the range: harmless to a lexer that only looks for statements.
     */
    private int[] literalBody() {
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

    private void set() {
        String w = nextWord();
        if (w == null) {
            return;
        }
        if (w.equals("local") || w.equals("transaction") || w.equals("constraints")) {
            return; // scoped to the transaction; SET CONSTRAINTS sets no parameter at all
        }
        if (w.equals("session")) {
            w = nextWord();
            if (w == null) {
                return;
            }
            if (w.equals("characteristics")) {
                Findings x = findings();
                x.set("default_transaction_isolation");
                x.set("default_transaction_read_only");
                x.set("default_transaction_deferrable");
                return;
            }
            if (w.equals("authorization")) {
                pin("SET SESSION AUTHORIZATION");
                return;
            }
        }
        switch (w) {
            case "role" -> pin("SET ROLE");
            case "time" -> findings().set("timezone");
            case "names" -> findings().set("client_encoding");
            case "schema" -> findings().set("search_path");
            case "xml" -> findings().set("xmloption");
            default -> findings().set(dotted(w));
        }
    }

    private void reset() {
        String w = nextWord();
        if (w == null) {
            return;
        }
        switch (w) {
            case "all" -> findings().resetAll();
            case "role", "session" -> pin("RESET ROLE/SESSION AUTHORIZATION");
            case "time" -> findings().reset("timezone");
            default -> findings().reset(dotted(w));
        }
    }

    /** A parameter name may be qualified: {@code myapp.setting}. */
    private String dotted(String first) {
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

    private void declare() {
        // DECLARE name [BINARY] [ASENSITIVE|INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH|WITHOUT} HOLD] FOR ...
        String prev = null;
        for (int n = 0; n < 10; n++) {
            String w = nextWord();
            if (w == null || w.equals("for")) {
                return;
            }
            if (w.equals("hold") && "with".equals(prev)) {
                pin("DECLARE ... WITH HOLD");
                return;
            }
            prev = w;
        }
    }

    private void create() {
        String w = nextWord();
        if ("or".equals(w)) {
            if (!"replace".equals(nextWord())) {
                return;
            }
            w = nextWord(); // CREATE OR REPLACE TEMP VIEW creates a temporary object too
        }
        if ("global".equals(w) || "local".equals(w)) {
            w = nextWord();
        }
        if ("temp".equals(w) || "temporary".equals(w)) {
            pin("temporary table");
        } else if ("function".equals(w) || "procedure".equals(w)) {
            head().loadsLibrary = true;
        }
    }

    /** The next bare word, lower-cased, after spaces and comments; null if the next token is not a word. */
    private String nextWord() {
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
        String s = new String(b, i, w - i, StandardCharsets.UTF_8).toLowerCase(java.util.Locale.ROOT);
        i = w;
        return s;
    }

    private int wordEnd(int from) {
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

    private boolean is(int s, int e, String kw) {
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

    private void skipSpaceAndComments() {
        while (i < end) {
            byte c = b[i];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                i++;
            } else if (c == '-' && i + 1 < end && b[i + 1] == '-') {
                int nl = indexOf(i, end, (byte) '\n');
                i = nl < 0 ? end : nl + 1;
            } else if (c == '/' && i + 1 < end && b[i + 1] == '*') {
                skipBlockComment();
            } else {
                return;
            }
        }
    }

    private void skipBlockComment() {
        int depth = 0;
        while (i < end) {
            byte c = b[i];
            if (c == '/' && i + 1 < end && b[i + 1] == '*') {
                depth++;
                i += 2;
            } else if (c == '*' && i + 1 < end && b[i + 1] == '/') {
                depth--;
                i += 2;
                if (depth == 0) {
                    return;
                }
            } else {
                i++;
            }
        }
    }

    /** Advances past the next top-level ';', looking at every word on the way for session-level functions. */
    private void skipToStatementEnd() {
        while (i < end) {
            byte c = b[i];
            if (c == ';') {
                i++;
                return;
            }
            if (c == 0) {
                i = end;
                return;
            }
            if (c == '\'') {
                boolean escapes = i > start && (b[i - 1] | 0x20) == 'e'
                        && (i - 1 == start || !isWordByte(b[i - 2]));
                skipQuoted((byte) '\'', escapes);
            } else if (c == '"') {
                skipQuoted((byte) '"', false);
            } else if (c == '$' && skipDollarQuote()) {
                // skipped
            } else if (c == '-' || c == '/') {
                int before = i;
                skipSpaceAndComments();
                if (i == before) {
                    i++;
                }
            } else if (isWordByte(c)) {
                int w = wordEnd(i);
                if (w == i) {
                    i++;
                    continue;
                }
                checkFunction(i, w);
                boolean blockWord = inBody && isBlockWord(i, w);
                i = w;
                if (blockWord) {
                    skipSpaceAndComments();
                    if (i < end && b[i] != ';') {
                        statement();
                    }
                }
            } else {
                i++;
            }
        }
    }

    /** PL/pgSQL words after which a statement starts: {@code BEGIN SET …}, {@code THEN RESET …}. */
    private boolean isBlockWord(int s, int e) {
        return is(s, e, "begin") || is(s, e, "then") || is(s, e, "else") || is(s, e, "loop");
    }

    private void checkFunction(int s, int e) {
        if (is(s, e, "pg_advisory_lock") || is(s, e, "pg_advisory_lock_shared") || is(s, e, "pg_try_advisory_lock")
                || is(s, e, "pg_try_advisory_lock_shared")) {
            pin("session advisory lock");
        } else if (is(s, e, "set_config")) {
            pin("set_config()");
            setConfigCall(e);
        }
    }

    /**
     * {@code set_config('name', value, false)} with a plain literal name and {@code false}: the session's value of
     * that parameter is set, as by SET, so a fixup after a RESET ALL before it leaves it alone. Any other form only
     * pins (above), as what it sets cannot be told.
     */
    private void setConfigCall(int from) {
        int j = skipBlanks(from);
        if (j >= end || b[j] != '(') {
            return;
        }
        j = skipBlanks(j + 1);
        if (j >= end || b[j] != '\'') {
            return;
        }
        int nameStart = j + 1;
        int nameEnd = indexOf(nameStart, end, (byte) '\'');
        if (nameEnd <= nameStart || (nameEnd + 1 < end && b[nameEnd + 1] == '\'')) {
            return;
        }
        j = skipBlanks(nameEnd + 1);
        if (j >= end || b[j] != ',') {
            return;
        }
        int depth = 0;
        for (j++; j < end && (depth > 0 || b[j] != ','); j++) {
            if (b[j] == '\'') {
                int q = indexOf(j + 1, end, (byte) '\'');
                if (q < 0) {
                    return;
                }
                j = q;
            } else if (b[j] == '(') {
                depth++;
            } else if (b[j] == ')' && --depth < 0) {
                return;
            }
        }
        j = skipBlanks(j + 1);
        if (j < end && is(j, wordEnd(j), "false")) {
            findings().set(new String(b, nameStart, nameEnd - nameStart, StandardCharsets.UTF_8)
                    .toLowerCase(java.util.Locale.ROOT));
        }
    }

    private int skipBlanks(int from) {
        while (from < end && (b[from] == ' ' || b[from] == '\n' || b[from] == '\t' || b[from] == '\r')) {
            from++;
        }
        return from;
    }

    private static boolean isWordByte(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9') || c < 0;
    }

    private void skipQuoted(byte q, boolean backslashEscapes) {
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

    /** {@code $tag$ ... $tag$}; returns false (and consumes nothing) if this '$' does not open one. */
    private boolean skipDollarQuote() {
        if (i > start && isWordByte(b[i - 1])) {
            return false; // part of an identifier like a$b, or a parameter $1 preceded by a word
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
}
