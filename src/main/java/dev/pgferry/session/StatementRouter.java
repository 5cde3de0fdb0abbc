package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
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
 * <p>
 * This class maps the client's names and routes its messages; what a backend holds is {@link SharedStatements}',
 * the unnamed statement {@link UnnamedStatement}'s, an unsettled DISCARD ALL {@link UnsettledDiscard}'s, and session
 * mode's statement effects {@link SessionModeEffects}'.
 */
final class StatementRouter {
    /** Where the router's messages go; implemented by the session, which owns the channels and flushing. */
    interface Wire {
        ByteBufAllocator alloc();

        void toBackend(ServerConnection c, ByteBuf message);

        void toClient(ByteBuf message);

        /** Relays the client's bytes {@code [from, to)} of {@code in} unchanged. */
        void writeRun(ServerConnection c, ByteBuf in, int from, int to);
    }

    final ResponseQueue responses = new ResponseQueue();
    final UnsettledStatements unsettled = new UnsettledStatements();
    final ShapeCheck shapes;
    private final SharedStatements shared;
    private final Wire wire;
    /** The generation a new Parse of a text joins (see {@link SchemaEpoch}), shared by every session. */
    private final SchemaEpoch epoch;
    /** A schema change ran in the open transaction: its end starts a new generation too (others now see it). */
    private boolean schemaChangeOpen;
    /** The transaction status of the client's last ReadyForQuery from the server; 'I' when none is leased. */
    private byte txStatus = 'I';
    /** The client's named statements; null until it prepares one. */
    private HashMap<String, PreparedStatement> statements;
    /** Whether one of the client's named statements ever LISTENed: only then does a Bind look for it. */
    private boolean listensPrepared;
    private PreparedStatement lastStatement;
    private final UnnamedStatement unnamed;
    private final SessionModeEffects sessionEffects = new SessionModeEffects();
    private final UnsettledDiscard discard = new UnsettledDiscard();
    /** Which statements and portals are a RESET sent as a SET, whose tag reads RESET. */
    final ResetTags resetTags = new ResetTags();

    StatementRouter(Wire wire, int maxPrepared, SchemaEpoch epoch) {
        this.wire = wire;
        this.epoch = epoch;
        this.shared = new SharedStatements(wire, responses, maxPrepared, epoch);
        this.unnamed = new UnnamedStatement(wire, responses);
        this.shapes = new ShapeCheck(wire, responses, shared);
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
        discard.dropped(statements, ahead);
        statements = null;
        sessionEffects.clear();
        lastStatement = null;
        // gone if the statement succeeds; it fails inside a transaction block, after a failed statement and in a
        // query string of several statements, and then the server keeps them: either way a use prepares afresh
        c.prepared.replaceAll((name, shape) -> SharedStatements.GONE);
        c.unnamedOwner = null;
    }

    /** Whether a DISCARD ALL or DEALLOCATE ALL relayed to the server has not been settled yet. */
    boolean discardPending() {
        return discard.pending();
    }

    /** A CommandComplete while {@link #discardPending}: its tag DISCARD ALL or DEALLOCATE ALL settles it. */
    void commandComplete(ByteBuf in, int ri, int end) {
        discard.commandComplete(in, ri, end);
    }

    /** An error came: a DISCARD ALL or DEALLOCATE ALL it fails gives the client its statements back. */
    void discardFailed() {
        statements = discard.failed(statements);
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
     * A ReadyForQuery with transaction status {@code status} came from backend {@code c}; at 'I' a schema change of
     * the transaction is committed or rolled back, visible to all.
     */
    void readyForQuery(ServerConnection c, byte status) {
        txStatus = status;
        discard.readyForQuery(status);
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
     * backend's copy is taken as gone ({@link SharedStatements#GONE}), so no other client binds a statement that
     * may no longer be there;</li>
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
                c.prepared.computeIfPresent(name, (k, body) -> SharedStatements.GONE);
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

    /** An unnamed Parse relayed as is: remembered, to parse it again where a backend lost it. */
    void rememberUnnamed(ServerConnection c, ByteBuf in, int bodyStart, int end, StatementInspector.Findings effect) {
        unnamed.remember(c, in, bodyStart, end, effect);
    }

    /**
     * The findings of the statement a Bind at {@code nameStart} runs, when it LISTENs: the fan-out subscribes ahead
     * at each run, not only at the Parse (a named statement runs again without one). Null otherwise; a Bind of a
     * named statement costs a lookup only for a client that prepared a LISTEN.
     */
    StatementInspector.Findings listenEffect(ByteBuf in, int nameStart, int end) {
        StatementInspector.Findings f;
        if (in.getByte(nameStart) == 0) {
            f = unnamed.effect;
        } else if (!listensPrepared || statements == null) {
            return null;
        } else {
            int nameEnd = in.indexOf(nameStart, end, (byte) 0);
            PreparedStatement ps = nameEnd < 0 ? null
                    : statements.get(in.toString(nameStart, nameEnd - nameStart, StandardCharsets.UTF_8));
            f = ps == null ? null : ps.effect;
        }
        return f != null && f.listens() ? f : null;
    }

    /** What the client's last unnamed statement does to the session, found at its Parse; null for nothing. */
    StatementInspector.Findings unnamedEffect() {
        return unnamed.effect;
    }

    /** Describe of the unnamed statement: parsed again first where this backend lost it ({@link UnnamedStatement}). */
    boolean restoreUnnamed(ServerConnection c, ByteBuf in, int runStart, int ri) {
        return unnamed.restore(c, in, runStart, ri);
    }

    /**
     * Bind of the unnamed statement at {@code ri} ({@link UnnamedStatement#bind}): the client's statement its text
     * deallocates, if it is bound to the unnamed portal, is looked up here. Returns whether the run before {@code ri}
     * was written.
     */
    boolean bindUnnamed(ServerConnection c, ByteBuf in, int runStart, int ri) {
        String name = unnamed.deallocates;
        PreparedStatement ps = name == null || statements == null || txStatus == 'E' || in.getByte(ri + 5) != 0 ? null
                : statements.get(name);
        return unnamed.bind(c, in, runStart, ri, ps);
    }

    /**
     * Session mode: a Parse relayed as is, under the client's name ({@code nameStart} to its terminator at
     * {@code nameEnd - 1}); what it does to the session applies at each Bind of it ({@link #sessionEffect}).
     */
    void sessionParse(ByteBuf in, int nameStart, int nameEnd, StatementInspector.Findings effect) {
        if (nameEnd == nameStart + 1) {
            unnamed.effect = effect;
            return;
        }
        sessionEffects.parsed(in, nameStart, nameEnd, effect);
    }

    /** Session mode: what the named statement a Bind names ({@code nameStart}) does to the session, or null. */
    StatementInspector.Findings sessionEffect(ByteBuf in, int nameStart, int end) {
        return sessionEffects.of(in, nameStart, end);
    }

    /**
     * Execute of the portal at {@code ri}. If it runs a {@code DEALLOCATE} of the client's statement
     * ({@link UnnamedStatement#bind}), the client's name is gone from here on, as on PostgreSQL (a Parse of the name
     * may follow in the same batch); the shared server-side statement stays. Should the server fail or skip the
     * Execute, the name comes back ({@link #skipToSync}).
     */
    void execute(ByteBuf in, int ri) {
        if (resetTags.executes(in, ri)) {
            responses.add(ResponseQueue.EXECUTE, ResetTags.TAG_RESET);
            return;
        }
        PreparedStatement ps = unnamed.executed(in, ri);
        if (ps != null) {
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
        namedParse(c, in, ri, bodyStart, end, effect, aborted, false);
    }

    /** As above; {@code tagReset}: a RESET sent as a SET ({@link ResetToStartup#parse}), its tag read as RESET. */
    void namedParse(ServerConnection c, ByteBuf in, int ri, int bodyStart, int end, StatementInspector.Findings effect,
            boolean aborted, boolean tagReset) {
        String name = in.toString(ri + 5, bodyStart - ri - 6, StandardCharsets.UTF_8);
        byte[] body = new byte[end - bodyStart];
        in.getBytes(bodyStart, body);
        PreparedStatement ps = new PreparedStatement(name, body, effect);
        ps.tagReset = tagReset;
        listensPrepared |= effect != null && effect.listens();
        ps.serverName = shared.serverNameOn(c, ps.serverName);
        ps.epoch = epoch.current();
        if (statements == null) {
            statements = new HashMap<>();
        }
        PreparedStatement had = statements.put(name, ps); // the lookup that records it also tells a duplicate
        if (had != null) {
            statements.put(name, had);
            byte[] clientName = new byte[bodyStart - ri - 6];
            in.getBytes(ri + 5, clientName);
            shared.duplicateParse(c, ps, clientName);
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
            shared.prepare(c, ps, ResponseQueue.PARSE);
        }
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
            unnamed.portalRebound(); // the unnamed portal is bound to a named statement now
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
            if (have == null || have == SharedStatements.GONE) {
                // a stale copy is bound as it is: it fails as on PostgreSQL
                shared.prepare(c, ps, ResponseQueue.PARSE_INSERTED);
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
     * {@link UnsettledStatements}), and a failed Bind or Describe may say the backend's copy of a shared statement is
     * stale ({@link SharedStatements#serverError}). Its client sees this error, as it would on PostgreSQL, and so does
     * every client that prepared the text before; the next Parse of the text, by any client, prepares it afresh
     * instead of meeting the stale copy (PgBouncer keeps the copy and fails every client after, pgbouncer#1038).
     */
    void serverError(ServerConnection c, ByteBuf in, int ri, int end) {
        unsettled.error();
        shared.serverError(c, in, ri, end);
    }

    /** A duplicate Parse's error with the client's statement name put back, or null ({@link SharedStatements}). */
    ByteBuf duplicateError(ByteBuf in, int ri, int end) {
        return shared.duplicateError(in, ri, end);
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
                c.prepared.put(victim, SharedStatements.GONE);
            }
            if (responses.refAt(i) instanceof PreparedStatement ps) {
                if (k == ResponseQueue.PARSE || k == ResponseQueue.PARSE_INSERTED) {
                    // not prepared; the server may still hold an older text under the name (its Close was
                    // skipped too): the next use closes it first
                    c.prepared.put(ps.serverName, SharedStatements.GONE);
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
