package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;

/**
 * Whether a statement a client prepared before a schema change may be prepared again on a backend that lacks its
 * copy. On PostgreSQL the client's own statement would be re-planned at its Bind and fail with 0A000 "cached plan must
 * not change result type" if its row shape changed ({@code RevalidateCachedQuery}, plancache.c), and run otherwise. A
 * copy parsed now has today's shape: bound silently, it would hand the client rows of a shape it did not describe
 * (pgjdbc decodes them with the description it cached, or the server refuses its result formats with 08P01).
 * <p>
 * So the text is parsed under the statement's server name and described ({@link StatementRouter}), the client's
 * messages wait for the answer, and the row shape the server gives is compared with the one the client was given
 * ({@link PreparedStatement#shape}, from the first RowDescription or NoData of it). The same shape: the copy serves
 * the statement's generation as any other. Another shape: the copy is closed, and the client's Bind or Describe is
 * sent naming {@link #ABSENT}, so that the server fails it at that very point (skips to Sync, aborts a transaction
 * block) and its 26000 is passed on as PostgreSQL's 0A000. A statement never described (its shape unknown) is
 * prepared again unchecked.
 * <p>
 * Nothing is done for a statement prepared in the current generation, nor where the backend holds its copy (a stale
 * copy fails on the server itself, as on PostgreSQL).
 */
final class ShapeCheck {
    /** A statement name the server never has: pgferry's own names are {@code pgf_<hex>_<hex>…}. */
    static final byte[] ABSENT = {'p', 'g', 'f', '_', 's', 't', 'a', 'l', 'e'};
    /** The shape of a statement that returns no rows (NoData). */
    static final long NO_ROWS = 1;
    static final String MESSAGE = "cached plan must not change result type";

    private final StatementRouter.Wire wire;
    private final ResponseQueue responses;
    /** Closes a server statement on a backend and forgets it there ({@link SharedStatements#close}). */
    private final SharedStatements shared;
    /** The statement whose copy is being described, or null. */
    PreparedStatement pending;
    /** Found of another shape: the client's message that waited is sent naming {@link #ABSENT}. */
    PreparedStatement substitute;
    /** The statement whose Bind or Describe was sent naming {@link #ABSENT}: its 26000 is passed on as 0A000. */
    PreparedStatement failing;
    /** The statement the unnamed portal was bound from; null for the unnamed statement or none. */
    private PreparedStatement portalStatement;

    ShapeCheck(StatementRouter.Wire wire, ResponseQueue responses, SharedStatements shared) {
        this.wire = wire;
        this.responses = responses;
        this.shared = shared;
    }

    /** Whether the client's messages wait for the server to describe a copy. */
    boolean waiting() {
        return pending != null;
    }

    /**
     * {@code ps}, prepared before a schema change, was just prepared again on {@code c}: its copy is described, and
     * the client's messages wait for the answer. The Flush makes the server send it without a Sync.
     */
    void describe(ServerConnection c, PreparedStatement ps) {
        byte[] name = ps.serverNameBytes();
        ByteBuf out = wire.alloc().buffer(12 + name.length);
        out.writeByte(ProtocolCodes.DESCRIBE).writeInt(4 + 1 + name.length + 1).writeByte('S').writeBytes(name)
                .writeByte(0);
        out.writeByte(ProtocolCodes.FLUSH).writeInt(4);
        wire.toBackend(c, out);
        responses.add(ResponseQueue.DESCRIBE_CHECK, ps);
        pending = ps;
    }

    /**
     * A ParameterDescription, RowDescription or NoData at {@code [ri, end)}: whether to swallow it (the answer to
     * {@link #describe}). The first row shape a client's statement is described with is the one it knows.
     */
    boolean described(ServerConnection c, ByteBuf in, int ri, int end) {
        byte head = responses.peek();
        if (head == ResponseQueue.DESCRIBE && in.getByte(ri) != 't'
                && responses.peekRef() instanceof PreparedStatement ps && ps.shape == 0) {
            ps.shape = shapeOf(in, ri, end);
        }
        if (head != ResponseQueue.DESCRIBE_CHECK) {
            return false;
        }
        if (in.getByte(ri) != 't') {
            PreparedStatement ps = (PreparedStatement) responses.peekRef();
            responses.poll();
            pending = null;
            if (shapeOf(in, ri, end) != ps.shape) {
                substitute = ps;
                shared.close(c, ps.serverName); // its copy here is of today's shape: not for this generation
            }
        }
        return true;
    }

    /** Bind of the unnamed portal from {@code ps} (null: from the unnamed statement), for a Describe of it. */
    void boundUnnamedPortal(PreparedStatement ps) {
        portalStatement = ps;
    }

    PreparedStatement portalStatement() {
        return portalStatement;
    }

    /**
     * An ErrorResponse at {@code [ri, end)}: for the message sent naming {@link #ABSENT}, PostgreSQL's 0A000 in place
     * of the server's 26000; null for any other error.
     */
    ByteBuf staleError(ByteBuf in, int ri, int end) {
        byte head = responses.peek();
        if (failing == null || (head != ResponseQueue.BIND && head != ResponseQueue.DESCRIBE)
                || responses.peekRef() != failing || PlanInvalidation.marker(in, ri, end) != SharedStatements.GONE) {
            return null;
        }
        failing = null;
        // as PostgreSQL 15 words it (plancache.c), routine included: pgjdbc prepares again when it reads it
        return ServerMessages.serverError(wire.alloc(), "0A000", MESSAGE, "plancache.c", "727", "RevalidateCachedQuery");
    }

    /**
     * The row shape in a RowDescription ('T') or NoData ('n') at {@code [ri, end)}: column names, type OIDs and type
     * modifiers, as PostgreSQL compares result descriptors; not the table OIDs, column numbers or formats, which
     * differ between a Describe of the statement and of a portal, and when a table is dropped and created again.
     */
    static long shapeOf(ByteBuf in, int ri, int end) {
        if (in.getByte(ri) != 'T') {
            return NO_ROWS;
        }
        long h = 0xcbf29ce484222325L;
        int n = in.getUnsignedShort(ri + 5);
        h = mix(h, n);
        int i = ri + 7;
        for (int k = 0; k < n && i < end; k++) {
            int nul = in.indexOf(i, end, (byte) 0);
            if (nul < 0) {
                break;
            }
            for (int j = i; j < nul; j++) {
                h = mix(h, in.getByte(j));
            }
            int f = nul + 1; // table OID (4), column number (2), type OID (4), size (2), modifier (4), format (2)
            h = mix(h, in.getInt(f + 6));
            h = mix(h, in.getInt(f + 12));
            i = f + 18;
        }
        return h == NO_ROWS || h == 0 ? 2 : h;
    }

    private static long mix(long h, int v) {
        return (h ^ v) * 0x100000001b3L;
    }
}
