package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The shared server-side statements of transaction pooling, as they stand on one backend ({@link
 * ServerConnection#prepared}, server name → Parse body, least recently used first): the name a text is prepared
 * under, its Parse and Close inserted into the client's stream (their answers swallowed, see {@link ResponseQueue}),
 * and what a server's error says about a copy. Clients preparing the same text with the same types share one
 * statement per backend; {@link StatementRouter} maps each client's own names onto them.
 */
final class SharedStatements {
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

    private final StatementRouter.Wire wire;
    private final ResponseQueue responses;
    private final int maxPrepared;
    /** The generation a new Parse of a text joins (see {@link SchemaEpoch}), shared by every session. */
    private final SchemaEpoch epoch;

    SharedStatements(StatementRouter.Wire wire, ResponseQueue responses, int maxPrepared, SchemaEpoch epoch) {
        this.wire = wire;
        this.responses = responses;
        this.maxPrepared = maxPrepared;
        this.epoch = epoch;
    }

    /**
     * The server name a new Parse of a text uses, which the statement keeps on every backend: that of the current
     * generation ({@link SchemaEpoch}). Its copy on backend {@code c} may be {@link #STALE} (the server said so, or
     * the transaction that prepared it rolled back): then the text starts a new generation.
     */
    String serverNameOn(ServerConnection c, String base) {
        while (true) {
            String name = SchemaEpoch.serverName(base, epoch.current());
            if (c.prepared.get(name) != STALE) {
                return name;
            }
            epoch.advance();
        }
    }

    /** Parses {@code ps} on the backend under its server name, evicting the least recently used statement if full. */
    void prepare(ServerConnection c, PreparedStatement ps, byte kind) {
        byte[] have = c.prepared.remove(ps.serverName);
        if (have != null || c.prepared.size() >= maxPrepared) {
            close(c, have != null ? ps.serverName : c.prepared.keySet().iterator().next());
        }
        wire.toBackend(c, parse(ps.serverNameBytes(), ps.body));
        c.prepared.put(ps.serverName, ps.body);
        responses.add(kind, ps);
    }

    /** Closes the server's statement {@code victim} on the backend and forgets it there (its answer swallowed). */
    void close(ServerConnection c, String victim) {
        c.prepared.remove(victim);
        ByteBuf close = wire.alloc().buffer(victim.length() + 7);
        close.writeByte(ProtocolCodes.CLOSE).writeInt(4 + 1 + victim.length() + 1).writeByte('S');
        close.writeCharSequence(victim, StandardCharsets.US_ASCII);
        close.writeByte(0);
        wire.toBackend(c, close);
        responses.add(ResponseQueue.CLOSE_INSERTED, victim);
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
     * queued response stays in order through the existing error path ({@link StatementRouter#skipToSync}). Only the
     * server name in the 42P05 message is put back to the client's ({@link #duplicateError}).
     */
    void duplicateParse(ServerConnection c, PreparedStatement ps, byte[] clientName) {
        byte[] have = c.prepared.get(ps.serverName);
        if (have == null || !ps.sameBody(have)) {
            prepare(c, ps, ResponseQueue.PARSE_INSERTED);
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
     * An ErrorResponse at {@code [ri, end)} answers the message at the head of the queue: if that is the Bind or
     * Describe of a shared statement that failed because the backend's copy is stale ({@link PlanInvalidation}),
     * the copy is marked so, and a new Parse of the text, by any client, prepares it afresh instead of meeting it.
     */
    void serverError(ServerConnection c, ByteBuf in, int ri, int end) {
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
}
