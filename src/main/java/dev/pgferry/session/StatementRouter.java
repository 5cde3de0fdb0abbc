package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;

/**
 * Prepared statements of one client in transaction pooling: its named statements live on backends under
 * shared names derived from their text and types, created on demand on whichever backend it leases, kept
 * in a per-backend LRU; its unnamed statement is re-parsed where a backend lost it. {@link #responses}
 * records what the server owes the client, so that answers pgferry gives itself and answers to messages it
 * inserted land at the right place in the stream.
 */
final class StatementRouter implements dev.pgferry.backend.UnnamedStatementOwner {
    /** Where the router's messages go; implemented by the session, which owns the channels and flushing. */
    interface Wire {
        ByteBufAllocator alloc();

        void toBackend(ServerConnection c, ByteBuf message);

        void toClient(ByteBuf message);

        /** Relays the client's bytes {@code [from, to)} of {@code in} unchanged. */
        void writeRun(ServerConnection c, ByteBuf in, int from, int to);
    }

    /**
     * What a backend's cache holds for a statement known to be outdated there (see {@link PlanInvalidation} and
     * {@link UnsettledStatements}). The server still has it, and as on PostgreSQL the clients that prepared it
     * before keep meeting it (their Binds fail as the server decides, e.g. 0A000 "cached plan must not change result
     * type", and the driver prepares again); a new Parse of the text prepares it under another server name
     * ({@link #serverNameOn}), so that no client gets a row shape it did not describe. Compared by reference; equal
     * to no Parse body (a body holds at least a NUL and a parameter count).
     */
    static final byte[] STALE = new byte[0];

    /**
     * What a backend's cache holds for a name the server may or may not have (a Parse or Close of it was skipped
     * after an error, or the server said 26000): its next use closes the name and prepares the text again.
     */
    static final byte[] GONE = new byte[0];

    final ResponseQueue responses = new ResponseQueue();
    final UnsettledStatements unsettled = new UnsettledStatements();
    final ShapeCheck shapes;
    private final Wire wire;
    private final int maxPrepared;
    /** The generation a new Parse of a text joins (see {@link SchemaEpoch}), shared by every session. */
    private final SchemaEpoch epoch;
    /** A schema change ran in the open transaction: its end starts a new generation too (others now see it). */
    private boolean schemaChangeOpen;
    /** The transaction status of the client's last ReadyForQuery from the server; 'I' when none is leased. */
    private byte txStatus = 'I';
    /** The client's named statements; null until it prepares one. */
    private HashMap<String, PreparedStatement> statements;
    private PreparedStatement lastStatement;
    private byte[] unnamedBody;
    private int unnamedLen = -1;
    private long unnamedGeneration;
    /** The client's statement its last unnamed Parse deallocates ({@code DEALLOCATE name}), or null. */
    private String unnamedDealloc;
    /** The client's statement the unnamed portal deallocates when executed ({@link #bindUnnamed}), or null. */
    private PreparedStatement portalDealloc;
    /** What the client's last unnamed statement does to the session, found at its Parse; null for nothing. */
    private StatementInspector.Findings unnamedEffect;
    /**
     * Session mode, where statements keep the client's names on its own backend: what each named statement that
     * does something to the session does, by its name; null while there is none.
     */
    private HashMap<String, StatementInspector.Findings> sessionEffects;
    /** The client's statements as they were before a DISCARD ALL not yet confirmed by its tag; null otherwise. */
    private HashMap<String, PreparedStatement> discarded;
    /** Requests relayed before the one with the DISCARD ALL and not answered yet: their errors are not its. */
    private int discardAhead;
    private static final byte[] DISCARD_ALL_TAG = "DISCARD ALL\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEALLOCATE_ALL_TAG = "DEALLOCATE ALL\0".getBytes(StandardCharsets.US_ASCII);

    StatementRouter(Wire wire, int maxPrepared, SchemaEpoch epoch) {
        this.wire = wire;
        this.maxPrepared = maxPrepared;
        this.epoch = epoch;
        this.shapes = new ShapeCheck(wire, responses, this::closeOnBackend);
    }

    /**
     * A schema change is about to run (a Query or Parse of DDL text, a Bind of a DDL statement) or ran (its tag): a
     * Parse from now on joins a new generation, and so does one after the transaction ends.
     */
    void schemaChange() {
        epoch.advance();
        schemaChangeOpen = true;
    }

    /** A CommandComplete at {@code [ri, end)}: a DDL tag is a schema change, also one run past the request side. */
    void commandTag(ByteBuf in, int ri, int end) {
        if (SchemaEpoch.isSchemaChange(in, ri, end)) {
            schemaChange();
        }
    }

    /**
     * DISCARD ALL / DEALLOCATE ALL: the server dropped the backend's statements; the client's names go too.
     * {@code ahead}: requests the client sent before the one with it, not answered yet (a pipeline of several
     * Syncs): an error of theirs is not the DISCARD's.
     */
    void forgetAll(ServerConnection c, int ahead) {
        if (discarded == null) {
            discarded = statements == null ? new HashMap<>() : statements;
            discardAhead = ahead;
        }
        statements = null;
        sessionEffects = null;
        lastStatement = null;
        // gone if the statement succeeds; it fails inside a transaction block, after a failed statement and in a
        // query string of several statements, and then the server keeps them: either way a use prepares afresh
        c.prepared.replaceAll((name, shape) -> GONE);
        c.unnamedOwner = null;
    }

    /** Whether a DISCARD ALL or DEALLOCATE ALL relayed to the server has not been settled yet. */
    boolean discardPending() {
        return discarded != null;
    }

    /** A CommandComplete while {@link #discardPending}: its tag DISCARD ALL or DEALLOCATE ALL settles it. */
    void commandComplete(ByteBuf in, int ri, int end) {
        if (TransactionEffects.tagIs(in, ri, end, DISCARD_ALL_TAG)
                || TransactionEffects.tagIs(in, ri, end, DEALLOCATE_ALL_TAG)) {
            discarded = null;
        }
    }

    /**
     * An error came before the tag of a DISCARD ALL or DEALLOCATE ALL: it failed or was skipped, and the client's
     * statements are still there on PostgreSQL. They come back (names the client prepared since win), prepared
     * afresh on use.
     */
    void discardFailed() {
        if (discarded != null && discardAhead == 0) { // else the error is an earlier request's
            if (statements != null) {
                discarded.putAll(statements);
            }
            statements = discarded.isEmpty() ? null : discarded;
            discarded = null;
        }
    }


    /**
     * Close of a named statement: forgotten here at once (a Parse of the name may follow in the same batch);
     * the shared server-side statement stays. The queue keeps what was forgotten, for {@link #skipToSync}.
     */
    void closeNamed(String name) {
        PreparedStatement closed = statements == null ? null : statements.remove(name);
        if (closed != null && closed == lastStatement) {
            lastStatement = null;
        }
        responses.add(ResponseQueue.CLOSE_LOCAL, closed);
        emitLocalResponses();
    }

    /**
     * A ReadyForQuery with transaction status {@code status} came from backend {@code c}; at 'I' a schema change of the transaction is committed or rolled back,
     * visible to all.
     */
    void readyForQuery(ServerConnection c, byte status) {
        txStatus = status;
        if (discarded != null) {
            if (discardAhead > 0) {
                discardAhead--; // an earlier request of the pipeline is over
            } else if (status == 'I') {
                discarded = null; // its request is over without an error: what was forgotten stays forgotten
            }
        }
        unsettled.readyForQuery(c, status);
        if (status == 'I' && schemaChangeOpen) {
            schemaChangeOpen = false;
            epoch.advance();
        }
    }

    /**
     * A simple Query at {@code [ri, end)} that is one {@code DEALLOCATE [PREPARE] name} ({@link DeallocateQuery}) of a
     * statement the client prepared: as PostgreSQL's {@code DeallocateQuery}, the name is gone at once (a Parse of it
     * may follow in the same batch), also if a ROLLBACK follows; the shared server-side statement is other clients'
     * too and stays. It is answered here, behind whatever is still in flight, with the status the server reports
     * for that point ({@link #emitLocalResponses}): no lease for it, nothing sent. Returns false to relay it:
     * <ul>
     * <li>a name the client has not prepared: the server answers 26000 as PostgreSQL would, or, in a session pinned
     * by an SQL {@code PREPARE}, deallocates that one. Should it be one of pgferry's own server names, the
     * backend's copy is taken as gone ({@link #GONE}), so no other client binds a statement that may no longer be
     * there;</li>
     * <li>a failed transaction with nothing in flight: the server answers 25P02 byte for byte, as PostgreSQL checks
     * that before it looks at the name;</li>
     * <li>no backend ({@code c} null) while answers are owed: not expected, but then the server decides.</li>
     * </ul>
     */
    boolean deallocate(ServerConnection c, ByteBuf in, int ri, int end) {
        String name = DeallocateQuery.statementName(in, ri + 5, end);
        if (name == null) {
            return false;
        }
        PreparedStatement ps = statements == null ? null : statements.get(name);
        if (ps == null) {
            if (c != null) {
                c.prepared.computeIfPresent(name, (k, body) -> GONE);
            }
            return false;
        }
        if (responses.isEmpty() ? txStatus == 'E' : c == null) {
            return false;
        }
        statements.remove(name);
        if (ps == lastStatement) {
            lastStatement = null;
        }
        responses.add(ResponseQueue.DEALLOCATE_LOCAL, ps);
        emitLocalResponses();
        return true;
    }

    /**
     * The client's last unnamed Parse body, kept (in a reused array) to re-parse it on another backend, and what it
     * does to the session, which applies at each Bind of it ({@link #unnamedEffect()}).
     */
    void rememberUnnamed(ServerConnection c, ByteBuf in, int bodyStart, int end, StatementInspector.Findings effect) {
        int len = end - bodyStart;
        if (unnamedBody == null || unnamedBody.length < len) {
            unnamedBody = new byte[Math.max(len, 64)];
        }
        in.getBytes(bodyStart, unnamedBody, 0, len);
        unnamedLen = len;
        unnamedEffect = effect;
        unnamedDealloc = DeallocateQuery.statementName(in, bodyStart, end);
        unnamedGeneration++;
        c.unnamedOwner = this;
        c.unnamedGeneration = unnamedGeneration;
    }

    StatementInspector.Findings unnamedEffect() {
        return unnamedEffect;
    }

    /**
     * Session mode: a Parse relayed as is, under the client's name ({@code nameStart} to its terminator at
     * {@code nameEnd - 1}); what it does to the session applies at each Bind of it ({@link #sessionEffect}).
     */
    void sessionParse(ByteBuf in, int nameStart, int nameEnd, StatementInspector.Findings effect) {
        if (nameEnd == nameStart + 1) {
            unnamedEffect = effect;
            return;
        }
        if (effect == null && sessionEffects == null) {
            return;
        }
        String name = in.toString(nameStart, nameEnd - 1 - nameStart, StandardCharsets.UTF_8);
        if (effect == null) {
            sessionEffects.remove(name);
        } else {
            if (sessionEffects == null) {
                sessionEffects = new HashMap<>();
            }
            sessionEffects.put(name, effect);
        }
    }

    /** Session mode: what the named statement a Bind names ({@code nameStart}) does to the session, or null. */
    StatementInspector.Findings sessionEffect(ByteBuf in, int nameStart, int end) {
        if (sessionEffects == null || sessionEffects.isEmpty()) {
            return null;
        }
        int nameEnd = in.indexOf(nameStart, end, (byte) 0);
        return nameEnd <= nameStart ? null
                : sessionEffects.get(in.toString(nameStart, nameEnd - nameStart, StandardCharsets.UTF_8));
    }

    /**
     * Bind/Describe of the unnamed statement: drivers like the Vert.x client Parse it in one round trip and
     * Bind it in the next, possibly on another backend or after another client's query. If this backend's
     * unnamed statement is not the client's latest, it is parsed again first (its ParseComplete swallowed).
     */
    boolean restoreUnnamed(ServerConnection c, ByteBuf in, int runStart, int ri) {
        if (unnamedLen < 0 || (c.unnamedOwner == this && c.unnamedGeneration == unnamedGeneration)) {
            return false;
        }
        wire.writeRun(c, in, runStart, ri);
        ByteBuf out = wire.alloc().buffer(6 + unnamedLen);
        out.writeByte(ProtocolCodes.PARSE).writeInt(4 + 1 + unnamedLen).writeByte(0).writeBytes(unnamedBody, 0, unnamedLen);
        wire.toBackend(c, out);
        responses.add(ResponseQueue.PARSE_INSERTED, null);
        c.unnamedOwner = this;
        c.unnamedGeneration = unnamedGeneration;
        return true;
    }

    /** The throwaway statement an unnamed {@code DEALLOCATE} of a client's statement drops instead (see below). */
    private static final byte[] DEALLOC_NAME = "pgf_dealloc".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEALLOC_BODY = "SELECT 1\0\0\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEALLOC_TEXT = "DEALLOCATE pgf_dealloc".getBytes(StandardCharsets.US_ASCII);

    /**
     * Bind of the unnamed statement at {@code ri}. If that is one {@code DEALLOCATE [PREPARE] name}
     * ({@link DeallocateQuery}; libpq's PQsendQueryParams, so psycopg 3.1 evicts a cached statement) of a statement
     * the client prepared, bound to the unnamed portal, the server would look for the client's name, which it does
     * not have (pgferry prepares the statement under a shared name that other clients use too). So the statement
     * bound is {@code DEALLOCATE pgf_dealloc} instead, of a throwaway {@code SELECT 1} prepared just before (closed
     * first, should a run that never executed have left one): the server answers the Bind, Describe and Execute as
     * PostgreSQL answers the client's, byte for byte, and the client's name goes at the Execute ({@link #execute}).
     * These three messages are inserted right before the Bind and their answers swallowed; the backend's unnamed
     * statement is no longer the client's, so a Describe or Bind of it later re-parses the client's text.
     * <p>
     * Otherwise the statement is re-parsed where this backend lost it ({@link #restoreUnnamed}): a name the client
     * does not have gets the server's 26000, as on PostgreSQL, and in a failed transaction (as far as the server
     * reported) the Bind gets its 25P02. Left to the server, which answers 26000: the statement bound to a named
     * portal. Returns whether the run before {@code ri} was written.
     */
    boolean bindUnnamed(ServerConnection c, ByteBuf in, int runStart, int ri) {
        PreparedStatement ps = unnamedDealloc == null || statements == null || txStatus == 'E'
                || in.getByte(ri + 5) != 0 ? null : statements.get(unnamedDealloc);
        if (in.getByte(ri + 5) == 0) {
            portalDealloc = ps; // a Bind to the unnamed portal replaces what it held
        }
        if (ps == null) {
            if (unnamedDealloc != null) {
                c.prepared.computeIfPresent(unnamedDealloc, (k, body) -> GONE); // as for a simple Query
            }
            return restoreUnnamed(c, in, runStart, ri);
        }
        wire.writeRun(c, in, runStart, ri);
        ByteBuf out = wire.alloc().buffer(64 + unnamedLen);
        out.writeByte(ProtocolCodes.CLOSE).writeInt(4 + 1 + DEALLOC_NAME.length + 1).writeByte('S');
        out.writeBytes(DEALLOC_NAME).writeByte(0);
        responses.add(ResponseQueue.CLOSE_INSERTED, null);
        out.writeByte(ProtocolCodes.PARSE).writeInt(4 + DEALLOC_NAME.length + 1 + DEALLOC_BODY.length);
        out.writeBytes(DEALLOC_NAME).writeByte(0).writeBytes(DEALLOC_BODY);
        responses.add(ResponseQueue.PARSE_INSERTED, null);
        int textEnd = 0;
        while (unnamedBody[textEnd] != 0) {
            textEnd++;
        }
        // the client's parameter types stay: its Bind carries values for them
        out.writeByte(ProtocolCodes.PARSE).writeInt(4 + 1 + DEALLOC_TEXT.length + unnamedLen - textEnd).writeByte(0);
        out.writeBytes(DEALLOC_TEXT).writeBytes(unnamedBody, textEnd, unnamedLen - textEnd);
        responses.add(ResponseQueue.PARSE_INSERTED, null);
        wire.toBackend(c, out);
        c.unnamedOwner = null;
        return true;
    }

    /**
     * Execute of the portal at {@code ri}. If it runs a {@code DEALLOCATE} of the client's statement
     * ({@link #bindUnnamed}), the client's name is gone from here on, as on PostgreSQL (a Parse of the name may follow
     * in the same batch); the shared server-side statement stays. Should the server fail or skip the Execute, the
     * name comes back ({@link #skipToSync}).
     */
    void execute(ByteBuf in, int ri) {
        PreparedStatement ps = null;
        if (portalDealloc != null && in.getByte(ri + 5) == 0) {
            ps = portalDealloc;
            portalDealloc = null; // runs once
            if (statements != null && statements.get(ps.clientName) == ps) {
                statements.remove(ps.clientName);
                if (ps == lastStatement) {
                    lastStatement = null;
                }
            } else {
                ps = null; // closed meanwhile
            }
        }
        responses.add(ResponseQueue.EXECUTE, ps);
    }

    /**
     * A Parse of a named statement: recorded; relayed under its server name unless this backend has it. A name
     * the client already has is PostgreSQL's error 42P05 (the old statement stays), see {@link #duplicateParse}.
     */
    void namedParse(ServerConnection c, ByteBuf in, int ri, int bodyStart, int end, StatementInspector.Findings effect,
            boolean aborted) {
        String name = in.toString(ri + 5, bodyStart - ri - 6, StandardCharsets.UTF_8);
        byte[] body = new byte[end - bodyStart];
        in.getBytes(bodyStart, body);
        PreparedStatement ps = new PreparedStatement(name, body, effect);
        ps.serverName = serverNameOn(c, ps.serverName, epoch);
        ps.epoch = epoch.current();
        if (statements == null) {
            statements = new HashMap<>();
        }
        PreparedStatement had = statements.put(name, ps); // the lookup that records it also tells a duplicate
        if (had != null) {
            statements.put(name, had);
            byte[] clientName = new byte[bodyStart - ri - 6];
            in.getBytes(ri + 5, clientName);
            duplicateParse(c, ps, clientName);
            return;
        }
        lastStatement = ps;
        byte[] have = c.prepared.get(ps.serverName);
        if (have != null && ps.sameBody(have) && !aborted) {
            responses.add(ResponseQueue.PARSE_LOCAL, ps);
            emitLocalResponses();
        } else {
            // in an aborted transaction PostgreSQL refuses the Parse (25P02) before it looks at the name: the
            // server answers (Close and Parse again, right also if a pipelined ROLLBACK ended the transaction
            // meanwhile), and its error path forgets the client's name
            prepareOnBackend(c, ps, ResponseQueue.PARSE);
        }
    }

    /**
     * The server name a new Parse of a text uses, which the statement keeps on every backend: that of the current
     * generation ({@link SchemaEpoch}). Its copy on backend {@code c} may be {@link #STALE} (the server said so, or
     * the transaction that prepared it rolled back): then the text starts a new generation.
     */
    static String serverNameOn(ServerConnection c, String base, SchemaEpoch epoch) {
        while (true) {
            String name = SchemaEpoch.serverName(base, epoch.current());
            if (c.prepared.get(name) != STALE) {
                return name;
            }
            epoch.advance();
        }
    }

    /**
     * The client's Parse of a name it already has prepared. PostgreSQL parses and analyses the text first and
     * only then finds the name taken ({@code exec_parse_message} → {@code StorePreparedStatement}): a syntax
     * error, 25P02 in an aborted transaction or a missing table wins over 42P05. Then, as after any error, it
     * skips every message up to Sync and aborts an explicit transaction.
     * <p>
     * Rather than answering locally — which would need pgferry to drop the client's messages up to Sync
     * itself, to keep local answers queued behind the error from going out, and to track the aborted
     * transaction (25P02 for what follows, ReadyForQuery 'E', ROLLBACK) that the backend would not know
     * about — the backend is made to fail at this exact point: the client's text is parsed under its server
     * name on a backend that holds that name (parsed there first if it does not). The server then gives the
     * error PostgreSQL would give, in PostgreSQL's order, skips to Sync, keeps the transaction state, and every
     * queued response stays in order through the existing error path ({@link #skipToSync}). Only the server
     * name in the 42P05 message is put back to the client's ({@link #duplicateError}).
     */
    private void duplicateParse(ServerConnection c, PreparedStatement ps, byte[] clientName) {
        byte[] have = c.prepared.get(ps.serverName);
        if (have == null || !ps.sameBody(have)) {
            prepareOnBackend(c, ps, ResponseQueue.PARSE_INSERTED);
        }
        byte[] server = ps.serverNameBytes();
        wire.toBackend(c, parse(server, ps.body));
        responses.add(ResponseQueue.PARSE_DUPLICATE, new Duplicate(server, clientName));
    }

    /** The server name and the client's name of a duplicate Parse, to put the latter in the former's error. */
    private record Duplicate(byte[] serverName, byte[] clientName) {}

    /**
     * The server's error for the message at the head of the queue, if that is a duplicate Parse: re-encoded
     * with the client's statement name in place of the server name (every other field as the server sent
     * it), or null to relay it unchanged (an error that does not name the statement, e.g. a syntax error).
     */
    ByteBuf duplicateError(ByteBuf in, int ri, int end) {
        if (responses.peek() != ResponseQueue.PARSE_DUPLICATE) {
            return null;
        }
        Duplicate d = (Duplicate) responses.peekRef();
        return ServerMessages.replaceInMessageField(wire.alloc(), in, ri, end, d.serverName, d.clientName);
    }

    private ByteBuf parse(byte[] name, byte[] body) {
        ByteBuf out = wire.alloc().buffer(6 + name.length + body.length);
        out.writeByte(ProtocolCodes.PARSE).writeInt(4 + name.length + 1 + body.length);
        return out.writeBytes(name).writeByte(0).writeBytes(body);
    }

    /**
     * Bind or Describe naming a statement at {@code [nameStart, NUL)}: if it is one of the client's, the
     * message is re-encoded with the server name, after a Parse if this backend lacks the statement.
     * Unknown names pass unchanged, so the server answers with its own error.
     */
    boolean rewriteStatementName(ServerConnection c, ByteBuf in, int runStart, int ri, int nameStart, int end)
            throws ProtocolException {
        int nameEnd = in.indexOf(nameStart, end, (byte) 0);
        if (nameEnd < 0) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid string in message");
        }
        if (in.getByte(ri) == ProtocolCodes.BIND && in.getByte(ri + 5) == 0) {
            portalDealloc = null; // the unnamed portal is bound to a named statement now
        }
        if (nameEnd == nameStart || statements == null) {
            return false;
        }
        PreparedStatement ps = lastStatement;
        if (ps == null || !nameEquals(in, nameStart, nameEnd, ps.clientName)) {
            ps = statements.get(in.toString(nameStart, nameEnd - nameStart, StandardCharsets.UTF_8));
            if (ps == null) {
                return false;
            }
            lastStatement = ps;
        }
        wire.writeRun(c, in, runStart, ri);
        byte[] server;
        if (shapes.substitute == ps) {
            // a copy parsed now has another shape than the client's statement: the server fails this message here
            shapes.substitute = null;
            shapes.failing = ps;
            server = ShapeCheck.ABSENT;
        } else {
            byte[] have = c.prepared.get(ps.serverName);
            if (have == null || have == GONE) {
                // a STALE copy is bound as it is: it fails as on PostgreSQL
                prepareOnBackend(c, ps, ResponseQueue.PARSE_INSERTED);
                if (ps.epoch != epoch.current() && ps.shape != 0) {
                    shapes.describe(c, ps);
                    return false;
                }
            }
            server = ps.serverNameBytes();
        }
        ByteBuf out = wire.alloc().buffer(end - ri - (nameEnd - nameStart) + server.length);
        out.writeByte(in.getByte(ri)).writeInt(0);
        out.writeBytes(in, ri + 5, nameStart - ri - 5);
        out.writeBytes(server);
        out.writeBytes(in, nameEnd, end - nameEnd);
        out.setInt(1, out.writerIndex() - 1);
        wire.toBackend(c, out);
        return true;
    }

    /** The statement the last {@link #rewriteStatementName} renamed. */
    PreparedStatement lastStatement() {
        return lastStatement;
    }

    /**
     * A ParseComplete came: whether to swallow it (the answer to a Parse pgferry inserted). A shared statement the
     * server has now prepared is unsettled until its transaction ends ({@link UnsettledStatements}).
     */
    boolean parseComplete() {
        if (responses.peekRef() instanceof PreparedStatement ps) {
            unsettled.prepared(ps.serverName);
        }
        return responses.poll() == ResponseQueue.PARSE_INSERTED;
    }

    /**
     * An ErrorResponse at {@code [ri, end)}, before the queue is skipped to Sync: the transaction rolls back (see
     * {@link UnsettledStatements}), and if the Bind or Describe of a shared statement failed because the statement is
     * stale ({@link PlanInvalidation}), the backend's copy is marked so. Its client sees this error, as it would on
     * PostgreSQL, and so does every client that prepared the text before; the next Parse of the text, by any client,
     * prepares it afresh instead of meeting the stale copy (PgBouncer keeps the copy and fails every client after,
     * pgbouncer#1038).
     */
    void serverError(ServerConnection c, ByteBuf in, int ri, int end) {
        unsettled.error();
        byte head = responses.peek();
        if ((head == ResponseQueue.BIND || head == ResponseQueue.DESCRIBE)
                && responses.peekRef() instanceof PreparedStatement ps) {
            byte[] marker = PlanInvalidation.marker(in, ri, end);
            if (marker != null) {
                c.prepared.replace(ps.serverName, marker);
            }
            if (marker == STALE) {
                epoch.advance(); // the schema changed, maybe past pgferry: a new Parse must not meet other old copies
            }
        }
    }

    private static boolean nameEquals(ByteBuf in, int from, int to, String name) {
        if (to - from != name.length()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (in.getByte(from + i) != (byte) name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Parses {@code ps} on the backend under its server name, evicting the least recently used statement if full. */
    void prepareOnBackend(ServerConnection c, PreparedStatement ps, byte kind) {
        byte[] have = c.prepared.remove(ps.serverName);
        if (have != null || c.prepared.size() >= maxPrepared) {
            closeOnBackend(c, have != null ? ps.serverName : c.prepared.keySet().iterator().next());
        }
        wire.toBackend(c, parse(ps.serverNameBytes(), ps.body));
        c.prepared.put(ps.serverName, ps.body);
        responses.add(kind, ps);
    }

    /** Closes the server's statement {@code victim} on the backend and forgets it there (its answer swallowed). */
    void closeOnBackend(ServerConnection c, String victim) {
        c.prepared.remove(victim);
        ByteBuf close = wire.alloc().buffer(victim.length() + 7);
        close.writeByte(ProtocolCodes.CLOSE).writeInt(4 + 1 + victim.length() + 1).writeByte('S');
        close.writeCharSequence(victim, StandardCharsets.US_ASCII);
        close.writeByte(0);
        wire.toBackend(c, close);
        responses.add(ResponseQueue.CLOSE_INSERTED, victim);
    }

    /** Answers, in order, the messages at the head of the queue that pgferry answers itself. */
    void emitLocalResponses() {
        while (true) {
            byte k = responses.peek();
            if (k == ResponseQueue.PARSE_LOCAL) {
                ByteBuf out = wire.alloc().buffer(5);
                ServerMessages.parseComplete(out);
                wire.toClient(out);
            } else if (k == ResponseQueue.CLOSE_LOCAL) {
                ByteBuf out = wire.alloc().buffer(5);
                ServerMessages.closeComplete(out);
                wire.toClient(out);
            } else if (k == ResponseQueue.DEALLOCATE_LOCAL) {
                if (txStatus == 'E') {
                    // what was in flight failed the transaction: PostgreSQL refuses the DEALLOCATE (25P02), and the
                    // statement is the client's again unless it prepared the name anew meanwhile
                    PreparedStatement ps = (PreparedStatement) responses.peekRef();
                    if (statements == null) {
                        statements = new HashMap<>();
                    }
                    statements.putIfAbsent(ps.clientName, ps);
                }
                wire.toClient(DeallocateQuery.answer(wire.alloc(), txStatus));
            } else {
                return;
            }
            responses.poll();
        }
    }

    /**
     * The server skips everything after an error up to Sync: undo what those messages did to the client's
     * names (a Parse created one, a Close answered here forgot one), last first, so that a Close and a Parse
     * of one name in the skipped run leave it as it was before them.
     */
    void skipToSync(ServerConnection c) {
        int n = 0;
        while (n < responses.size() && responses.kindAt(n) != ResponseQueue.SYNC) {
            n++;
        }
        for (int i = n - 1; i >= 0; i--) {
            byte k = responses.kindAt(i);
            if (k == ResponseQueue.DESCRIBE_CHECK) {
                shapes.pending = null; // the client's messages that waited are skipped by the server too
            }
            if (k == ResponseQueue.CLOSE_INSERTED && responses.refAt(i) instanceof String victim) {
                // the server skipped the Close: it still holds the name, with a text no longer recorded here
                c.prepared.put(victim, GONE);
            }
            if (responses.refAt(i) instanceof PreparedStatement ps) {
                if (k == ResponseQueue.PARSE || k == ResponseQueue.PARSE_INSERTED) {
                    // not prepared; the server may still hold an older text under the name (its Close was
                    // skipped too): the next use closes it first
                    c.prepared.put(ps.serverName, GONE);
                }
                if ((k == ResponseQueue.PARSE || k == ResponseQueue.PARSE_LOCAL) && statements != null
                        && statements.get(ps.clientName) == ps) {
                    statements.remove(ps.clientName);
                } else if (k == ResponseQueue.CLOSE_LOCAL || k == ResponseQueue.EXECUTE) {
                    // a Close answered here, or the Execute of a DEALLOCATE of it (see #execute)
                    if (statements == null) {
                        statements = new HashMap<>();
                    }
                    statements.put(ps.clientName, ps);
                }
            }
        }
        for (int i = 0; i < n; i++) {
            responses.poll();
        }
        lastStatement = null;
        shapes.failing = null;
    }

}
