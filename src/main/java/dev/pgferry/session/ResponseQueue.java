package dev.pgferry.session;

/**
 * What the server owes the client, in order: one entry per extended-protocol message relayed (and per
 * Query), so that responses can be matched to requests. This lets pgferry answer some messages itself
 * (ParseComplete for a statement the backend already has, CloseComplete for a shared statement) and
 * swallow the answers to messages it inserted, each at the right place in the stream. A ring of bytes
 * with a parallel ring of references: no allocation per message.
 */
final class ResponseQueue {
    /** The client's Parse, relayed: its ParseComplete goes to the client; on error its name is forgotten. */
    static final byte PARSE = 1;
    /** The client's Parse, answered by pgferry: the backend already has the statement. */
    static final byte PARSE_LOCAL = 2;
    /** A Parse pgferry inserted before a Bind/Describe: its ParseComplete is swallowed. */
    static final byte PARSE_INSERTED = 3;
    static final byte BIND = 4;
    static final byte DESCRIBE = 5;
    /**
     * Execute; its reference, if any, is the client's statement a {@code DEALLOCATE} in the portal drops (see
     * {@link StatementRouter#execute}), put back if the Execute is skipped after an error.
     */
    static final byte EXECUTE = 6;
    /** Close of a portal or unnamed statement, relayed. */
    static final byte CLOSE = 7;
    /**
     * Close of a named statement, answered by pgferry (the server-side statement is shared); its reference is
     * the statement the client forgot, put back if the Close is skipped after an error.
     */
    static final byte CLOSE_LOCAL = 8;
    /** A Close pgferry inserted to evict a statement from the backend: its CloseComplete is swallowed. */
    static final byte CLOSE_INSERTED = 9;
    static final byte SYNC = 10;
    static final byte QUERY = 11;
    static final byte FUNCTION = 12;
    /**
     * The client's Parse of a name it already has, sent to fail on the server (see
     * {@link StatementRouter#namedParse}): its error is passed on with the client's name in it.
     */
    static final byte PARSE_DUPLICATE = 13;
    /** A Describe pgferry inserted to learn a copy's row shape ({@link ShapeCheck}): its answer is swallowed. */
    static final byte DESCRIBE_CHECK = 14;
    /**
     * A simple Query {@code DEALLOCATE name} of the client's statement, answered by pgferry once what was sent before
     * it is answered (see {@link StatementRouter#deallocate}); its reference is the statement the client forgot.
     */
    static final byte DEALLOCATE_LOCAL = 15;

    // small at first: most clients are idle or run one statement at a time; grows by doubling for pipelines
    private byte[] kinds = new byte[4];
    private Object[] refs = new Object[4];
    private int head;
    private int size;

    void add(byte kind, Object ref) {
        if (size == kinds.length) {
            grow();
        }
        int i = (head + size) & (kinds.length - 1);
        kinds[i] = kind;
        refs[i] = ref;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** Kind at the head, or 0 if empty. */
    byte peek() {
        return size == 0 ? 0 : kinds[head];
    }

    Object peekRef() {
        return size == 0 ? null : refs[head];
    }

    /** Kind of the {@code i}-th entry from the head ({@code 0 <= i < size()}). */
    byte kindAt(int i) {
        return kinds[(head + i) & (kinds.length - 1)];
    }

    Object refAt(int i) {
        return refs[(head + i) & (kinds.length - 1)];
    }

    byte poll() {
        if (size == 0) {
            return 0;
        }
        byte k = kinds[head];
        refs[head] = null;
        head = (head + 1) & (kinds.length - 1);
        size--;
        return k;
    }

    /**
     * Removes the entries of {@code kind} that directly follow the head, keeping the head; returns how many went.
     */
    int removeBehindHead(byte kind) {
        int n = 0;
        while (n + 1 < size && kindAt(n + 1) == kind) {
            n++;
        }
        if (n > 0) {
            int mask = kinds.length - 1;
            int to = (head + n) & mask;
            kinds[to] = kinds[head];
            refs[to] = refs[head];
            for (int i = 0; i < n; i++) {
                refs[(head + i) & mask] = null;
            }
            head = to;
            size -= n;
        }
        return n;
    }

    void clear() {
        while (size > 0) {
            poll();
        }
        head = 0;
    }

    private void grow() {
        byte[] k = new byte[kinds.length * 2];
        Object[] r = new Object[kinds.length * 2];
        for (int n = 0; n < size; n++) {
            k[n] = kinds[(head + n) & (kinds.length - 1)];
            r[n] = refs[(head + n) & (kinds.length - 1)];
        }
        kinds = k;
        refs = r;
        head = 0;
    }
}
