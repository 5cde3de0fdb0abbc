package dev.pgferry.session;

import dev.pgferry.session.sql.SqlTextCache;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
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
 * <p>
 * The lexical rules are {@link dev.pgferry.session.sql.SqlLexer}'s, the classification is {@link StatementRules}'.
 * What a text was found to do is kept per event loop ({@link SqlTextCache}), so a text seen before (the same Parse
 * of every transaction) is not scanned again.
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
        /** {@code SET LOCAL x TO DEFAULT}: the parameter is at its default until the transaction ends. */
        public boolean localReset;
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
        /**
         * LISTEN and UNLISTEN in order, as {@code +channel}, {@code -channel} and {@code *} (UNLISTEN *, also DISCARD
         * ALL); null without any. Settled like SETs: they take effect when their transaction commits.
         */
        public List<String> listenOps;
        /**
         * Calls {@code pg_listening_channels()}, which reads the backend's own channels: exact unless the client has
         * channels on the fan-out's listener, then the session is pinned (see RequestRelay).
         */
        public boolean readsListening;
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

        /** LISTEN {@code channel}. */
        public void listen(String channel) {
            op("+" + channel);
        }

        /** UNLISTEN {@code channel}, or UNLISTEN * for null. */
        public void unlisten(String channel) {
            op(channel == null ? "*" : "-" + channel);
        }

        private void op(String op) {
            if (listenOps == null) {
                listenOps = new ArrayList<>(2);
            }
            listenOps.add(op);
        }

        /** Whether a LISTEN is among the operations (what pins with {@code pgferry.pool.listen=pin}). */
        public boolean listens() {
            if (listenOps != null) {
                for (String op : listenOps) {
                    if (op.charAt(0) == '+') {
                        return true;
                    }
                }
            }
            return false;
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
            readsListening |= o.readsListening;
            if (o.listenOps != null) {
                for (String op : o.listenOps) {
                    op(op);
                }
            }
            loadsLibrary |= o.loadsLibrary;
        }

        /** Whether a statement returns a parameter to its default: a RESET, RESET ALL, SET LOCAL x TO DEFAULT. */
        public boolean resetsAny() {
            if (localReset) {
                return true;
            }
            for (Findings l = this; l != null; l = l.next) {
                if (l.resetAll || !l.resetNames.isEmpty()) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String toString() {
            return "pin=" + pinReason + " touched=" + touched + " resetAll=" + resetAll + " listen=" + listenOps;
        }
    }

    /** Per thread (event loop): the scratch copy the text is scanned in, the rules, and the texts seen. */
    private static final class PerThread {
        byte[] scratch = new byte[256];
        final StatementRules rules = new StatementRules();
        final SqlTextCache<Findings> seen = new SqlTextCache<>();
    }

    private static final FastThreadLocal<PerThread> PER_THREAD = new FastThreadLocal<>() {
        @Override
        protected PerThread initialValue() {
            return new PerThread();
        }
    };
    private static final int KEPT_SCRATCH = 8192;

    private StatementInspector() {}

    /**
     * Inspects the SQL text in {@code [from, end)} (a NUL terminator, if included, ends it). The findings are the
     * caller's own, to merge into (a simple Query's). No cache: a Query's text often differs each time (its values are
     * in it), and each would push out a Parse's text that does repeat.
     */
    public static Findings inspect(ByteBuf buf, int from, int end) {
        PerThread t = PER_THREAD.get();
        int len = Math.max(0, end - from);
        return t.rules.classify(copy(t, buf, from, len), len);
    }

    /**
     * Inspects the SQL text in {@code [from, end)} like {@link #inspect(ByteBuf, int, int)}, but a text seen before
     * on this thread is not scanned again (a Parse's: drivers send the same few texts again and again). The findings
     * may be shared with every statement of the same text and must never be changed: a Parse's apply again at each
     * Bind, and are only ever merged into others.
     */
    public static Findings inspectShared(ByteBuf buf, int from, int end) {
        PerThread t = PER_THREAD.get();
        int len = Math.max(0, end - from);
        byte[] text = copy(t, buf, from, len);
        if (len > SqlTextCache.MAX_TEXT) {
            return t.rules.classify(text, len);
        }
        int hash = SqlTextCache.hash(text, len);
        int slot = t.seen.find(text, len, hash);
        if (slot >= 0) {
            return t.seen.valueAt(slot);
        }
        Findings f = t.rules.classify(text, len);
        t.seen.put(text, len, hash, f);
        return f;
    }

    public static Findings inspect(String sql) {
        ByteBuf buf = Unpooled.wrappedBuffer(sql.getBytes(StandardCharsets.UTF_8));
        return inspect(buf, 0, buf.writerIndex());
    }

    /** Inspects {@code sql} with no cache and no per-thread state on the way, as a reference for the cached path. */
    static Findings inspectFresh(String sql) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        return new StatementRules().classify(text, text.length);
    }

    /**
     * Copies {@code len} bytes at {@code from} into the thread's scratch array, grown as needed (a very long text gets
     * an array of its own, not kept), which the lexer then reads without bounds-checked calls.
     */
    private static byte[] copy(PerThread t, ByteBuf buf, int from, int len) {
        byte[] a = len <= t.scratch.length ? t.scratch : new byte[len];
        if (a != t.scratch && len <= KEPT_SCRATCH) {
            t.scratch = a;
        }
        buf.getBytes(from, a, 0, len);
        return a;
    }
}
