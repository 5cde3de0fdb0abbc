package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.backend.UnnamedStatementOwner;
import dev.pgferry.protocol.ProtocolCodes;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The client's unnamed statement in transaction pooling, relayed under its own (empty) name: drivers like the
 * Vert.x client Parse it in one round trip and Bind it in the next, possibly on another backend or after another
 * client's query. Its Parse body is kept (in a reused array) to parse it again where a backend lost it; a backend's
 * unnamed statement is this client's while {@link ServerConnection#unnamedOwner} is this object at this generation.
 * Also the unnamed portal's {@code DEALLOCATE} of a named statement ({@link #bind}).
 */
final class UnnamedStatement implements UnnamedStatementOwner {
    /** The throwaway statement an unnamed {@code DEALLOCATE} of a client's statement drops instead (see below). */
    private static final byte[] DEALLOC_NAME = "pgf_dealloc".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEALLOC_BODY = "SELECT 1\0\0\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DEALLOC_TEXT = "DEALLOCATE pgf_dealloc".getBytes(StandardCharsets.US_ASCII);

    private final StatementRouter.Wire wire;
    private final ResponseQueue responses;
    private byte[] body;
    private int len = -1;
    private long generation;
    /** The client's statement its text deallocates ({@code DEALLOCATE name}), or null. */
    String deallocates;
    /** What it does to the session, found at its Parse, which applies at each Bind of it; null for nothing. */
    StatementInspector.Findings effect;
    /** The client's statement the unnamed portal deallocates when executed ({@link #bind}), or null. */
    private PreparedStatement portalDealloc;

    UnnamedStatement(StatementRouter.Wire wire, ResponseQueue responses) {
        this.wire = wire;
        this.responses = responses;
    }

    /** The client's unnamed Parse body at {@code [bodyStart, end)}, relayed to {@code c}, and what it does. */
    void remember(ServerConnection c, ByteBuf in, int bodyStart, int end, StatementInspector.Findings effect) {
        int n = end - bodyStart;
        if (body == null || body.length < n) {
            body = new byte[Math.max(n, 64)];
        }
        in.getBytes(bodyStart, body, 0, n);
        len = n;
        this.effect = effect;
        deallocates = DeallocateQuery.statementName(in, bodyStart, end);
        generation++;
        c.unnamedOwner = this;
        c.unnamedGeneration = generation;
    }

    /**
     * Bind/Describe of the unnamed statement: if this backend's unnamed statement is not the client's latest, it is
     * parsed again first (its ParseComplete swallowed), after the run of the client's bytes before {@code ri}.
     * Returns whether that run was written.
     */
    boolean restore(ServerConnection c, ByteBuf in, int runStart, int ri) {
        if (len < 0 || (c.unnamedOwner == this && c.unnamedGeneration == generation)) {
            return false;
        }
        wire.writeRun(c, in, runStart, ri);
        ByteBuf out = wire.alloc().buffer(6 + len);
        out.writeByte(ProtocolCodes.PARSE).writeInt(4 + 1 + len).writeByte(0).writeBytes(body, 0, len);
        wire.toBackend(c, out);
        responses.add(ResponseQueue.PARSE_INSERTED, null);
        c.unnamedOwner = this;
        c.unnamedGeneration = generation;
        return true;
    }

    /**
     * Bind of the unnamed statement at {@code ri}. If that is one {@code DEALLOCATE [PREPARE] name}
     * ({@link DeallocateQuery}; libpq's PQsendQueryParams, so psycopg 3.1 evicts a cached statement) of a statement
     * the client prepared ({@code dealloc}, found by the router), bound to the unnamed portal, the server would look
     * for the client's name, which it does not have (pgferry prepares the statement under a shared name that other
     * clients use too). So the statement bound is {@code DEALLOCATE pgf_dealloc} instead, of a throwaway
     * {@code SELECT 1} prepared just before (closed first, should a run that never executed have left one): the
     * server answers the Bind, Describe and Execute as PostgreSQL answers the client's, byte for byte, and the
     * client's name goes at the Execute ({@link StatementRouter#execute}). These three messages are inserted right
     * before the Bind and their answers swallowed; the backend's unnamed statement is no longer the client's, so a
     * Describe or Bind of it later re-parses the client's text.
     * <p>
     * Otherwise the statement is re-parsed where this backend lost it ({@link #restore}): a name the client does not
     * have gets the server's 26000, as on PostgreSQL, and in a failed transaction (as far as the server reported)
     * the Bind gets its 25P02. Left to the server, which answers 26000: the statement bound to a named portal.
     * Returns whether the run before {@code ri} was written.
     */
    boolean bind(ServerConnection c, ByteBuf in, int runStart, int ri, PreparedStatement dealloc) {
        if (in.getByte(ri + 5) == 0) {
            portalDealloc = dealloc; // a Bind to the unnamed portal replaces what it held
        }
        if (dealloc == null) {
            if (deallocates != null) {
                c.prepared.computeIfPresent(deallocates, (k, b) -> SharedStatements.GONE); // as for a simple Query
            }
            return restore(c, in, runStart, ri);
        }
        wire.writeRun(c, in, runStart, ri);
        ByteBuf out = wire.alloc().buffer(64 + len);
        out.writeByte(ProtocolCodes.CLOSE).writeInt(4 + 1 + DEALLOC_NAME.length + 1).writeByte('S');
        out.writeBytes(DEALLOC_NAME).writeByte(0);
        responses.add(ResponseQueue.CLOSE_INSERTED, null);
        out.writeByte(ProtocolCodes.PARSE).writeInt(4 + DEALLOC_NAME.length + 1 + DEALLOC_BODY.length);
        out.writeBytes(DEALLOC_NAME).writeByte(0).writeBytes(DEALLOC_BODY);
        responses.add(ResponseQueue.PARSE_INSERTED, null);
        int textEnd = 0;
        while (body[textEnd] != 0) {
            textEnd++;
        }
        // the client's parameter types stay: its Bind carries values for them
        out.writeByte(ProtocolCodes.PARSE).writeInt(4 + 1 + DEALLOC_TEXT.length + len - textEnd).writeByte(0);
        out.writeBytes(DEALLOC_TEXT).writeBytes(body, textEnd, len - textEnd);
        responses.add(ResponseQueue.PARSE_INSERTED, null);
        wire.toBackend(c, out);
        c.unnamedOwner = null;
        return true;
    }

    /** The unnamed portal is bound to a named statement now: it deallocates nothing. */
    void portalRebound() {
        portalDealloc = null;
    }

    /** Execute of the portal at {@code ri}: the client's statement it deallocates, once, or null. */
    PreparedStatement executed(ByteBuf in, int ri) {
        if (portalDealloc == null || in.getByte(ri + 5) != 0) {
            return null;
        }
        PreparedStatement ps = portalDealloc;
        portalDealloc = null;
        return ps;
    }
}
