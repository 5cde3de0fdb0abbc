package dev.pgferry.session;

import dev.pgferry.session.StatementInspector.Findings;
import dev.pgferry.session.sql.SqlLexer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The classification rules of {@link StatementInspector}: which statements change session state and how, read
 * from the words {@link SqlLexer} finds outside quotes and comments. A statement starts at the text's start, after
 * a top-level ';', and inside a {@code DO} body after a PL/pgSQL block word; its first words decide what it is.
 * Calls of session-level functions (advisory locks, {@code set_config}) count wherever they appear.
 */
final class StatementRules extends SqlLexer {
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

    /** What {@code text[0, len)} does to the session; null for nothing. */
    Findings classify(byte[] text, int len) {
        reset(text, 0, len);
        f = null;
        link = null;
        breaks = 0;
        inBody = false;
        nesting = 0;
        run();
        if (f != null && breaks > 0) {
            // a transaction end after the last finding (`…; RESET ALL; ROLLBACK`) gets its link too, so its tag
            // settles or dooms what ran before it: a ROLLBACK in the query string rolls back the implicit
            // transaction of the statements before it, RESET ALL included (with only a WARNING 25P01)
            findings();
        }
        Findings found = f;
        f = null;
        link = null;
        release();
        return found;
    }

    /** Where SETs and RESETs go: the link of {@link Findings#next} after the transaction ends seen so far. */
    private Findings findings() {
        head();
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
            breakKinds = Arrays.copyOf(breakKinds, breaks * 2);
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
                Findings x = findings();
                x.resetAll();
                x.unlisten(null); // DISCARD ALL includes UNLISTEN *
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
            String channel = channelName();
            if (channel == null) {
                pin("LISTEN"); // a channel name read otherwise than PostgreSQL might: left to the server, pinned
            } else {
                findings().listen(channel);
            }
        } else if (is(s, w, "unlisten")) {
            skipSpaceAndComments();
            if (i < end && b[i] == '*') {
                i++;
                findings().unlisten(null);
            } else {
                String channel = channelName();
                if (channel == null) {
                    pin("LISTEN");
                } else {
                    findings().unlisten(channel);
                }
            }
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

    private void set() {
        String w = nextWord();
        if (w == null) {
            return;
        }
        if (w.equals("local")) {
            String name = nextWord();
            if (name != null && !name.equals("time") && toDefault(dotted(name))) {
                head().localReset = true; // scoped to the transaction, but at the server's default meanwhile
            }
            return;
        }
        if (w.equals("transaction") || w.equals("constraints")) {
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
            case "time" -> {
                // SET TIME ZONE DEFAULT / LOCAL is RESET timezone
                String zone = nextWord();
                skipSpaceAndComments();
                int v = wordEnd(i);
                if ("zone".equals(zone) && (is(i, v, "default") || is(i, v, "local"))) {
                    findings().reset("timezone");
                } else {
                    findings().set("timezone");
                }
            }
            case "names" -> findings().set("client_encoding");
            case "schema" -> findings().set("search_path");
            case "xml" -> findings().set("xmloption");
            default -> {
                String name = dotted(w);
                if (toDefault(name)) {
                    findings().reset(name); // SET x TO DEFAULT is RESET x (guc.c: a NULL value takes reset_val)
                } else {
                    findings().set(name);
                }
            }
        }
    }

    /** After a SET's {@code name}: whether {@code TO DEFAULT} or {@code = DEFAULT} ends the statement. */
    private boolean toDefault(String name) {
        int save = i;
        skipSpaceAndComments();
        boolean to = false;
        if (i < end && b[i] == '=') {
            i++;
            to = true;
        } else {
            int w = wordEnd(i);
            if (is(i, w, "to")) {
                i = w;
                to = true;
            }
        }
        if (to) {
            skipSpaceAndComments();
            int w = wordEnd(i);
            if (is(i, w, "default")) {
                i = w;
                skipSpaceAndComments();
                if (i >= end || b[i] == ';' || b[i] == 0) {
                    return true;
                }
            }
        }
        i = save;
        return false;
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

    /** The channel name of LISTEN/UNLISTEN at the cursor ({@link ChannelNames}); null to leave it to the server. */
    private String channelName() {
        skipSpaceAndComments();
        if (i < end && b[i] == '"') {
            int close = ChannelNames.quotedEnd(b, i, end);
            if (close < 0) {
                return null;
            }
            String name = ChannelNames.quoted(b, i, close);
            i = close + 1;
            return name;
        }
        int w = wordEnd(i);
        if (w == i || (w < end && (b[w] == '&' || b[w] == '"' || b[w] == '\''))) {
            return null; // U&"…", or a word running into a quote: read otherwise by PostgreSQL's scanner
        }
        String name = ChannelNames.folded(b, i, w);
        i = w;
        return name;
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
            if (skipQuoteOrComment()) {
                continue;
            }
            if (isWordByte(c)) {
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
        } else if (is(s, e, "pg_listening_channels")) {
            // the channels of a fanned-out LISTEN live on pgferry's listener connection, not on this backend
            head().readsListening = true;
        }
    }

    /**
     * {@code set_config('name', value, false)} with a plain literal name and {@code false}: the session's value of
     * that parameter is set, as by SET, so a fixup after a RESET ALL before it leaves it alone. Any other form only
     * pins (above), as what it sets cannot be told.
     */
    private void setConfigCall(int from) {
        int j = spaceAndCommentsEnd(from);
        if (j >= end || b[j] != '(') {
            return;
        }
        j = spaceAndCommentsEnd(j + 1);
        if (j >= end || b[j] != '\'') {
            return;
        }
        int nameStart = j + 1;
        int nameEnd = indexOf(nameStart, end, (byte) '\'');
        if (nameEnd <= nameStart || (nameEnd + 1 < end && b[nameEnd + 1] == '\'')) {
            return;
        }
        j = spaceAndCommentsEnd(nameEnd + 1);
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
        j = spaceAndCommentsEnd(j + 1);
        if (j < end && is(j, wordEnd(j), "false")) {
            findings().set(new String(b, nameStart, nameEnd - nameStart, StandardCharsets.UTF_8)
                    .toLowerCase(Locale.ROOT));
        }
    }
}
