package dev.pgferry.session;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A client's named statement: the body of its Parse after the name (query text, NUL, parameter type
 * OIDs), and the name pgferry prepares it under on backends, derived from that body so that clients
 * preparing the same SQL with the same types share one server-side statement. What running it does to the
 * session ({@link #effect}) is found once, at its Parse, and applies at every Bind of it, wherever it runs.
 */
final class PreparedStatement {
    final String clientName;
    final byte[] body;
    /** Set at its Parse: derived from the body, suffixed with the schema generation ({@link SchemaEpoch}). */
    String serverName;
    /** The schema generation at its Parse ({@link SchemaEpoch}). */
    long epoch;
    /** The row shape the client was given for it ({@link ShapeCheck#shapeOf}); 0 until it is described. */
    long shape;
    /** A RESET sent as a SET of the startup value ({@link ResetToStartup#parse}): its Execute's tag reads RESET. */
    boolean tagReset;
    /** What its SQL does to the session (SET, RESET, DISCARD, pinning), or null: the same as for a simple Query. */
    final StatementInspector.Findings effect;

    PreparedStatement(String clientName, byte[] body, StatementInspector.Findings effect) {
        this.clientName = clientName;
        this.body = body;
        this.serverName = serverNameFor(body);
        this.effect = effect;
    }

    /** {@code pgf_} + 64-bit FNV-1a of the body + its length: collisions are checked against the body. */
    static String serverNameFor(byte[] body) {
        long h = 0xcbf29ce484222325L;
        for (byte b : body) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return "pgf_" + Long.toHexString(h) + "_" + Integer.toHexString(body.length);
    }

    boolean sameBody(byte[] other) {
        return Arrays.equals(body, other);
    }

    byte[] serverNameBytes() {
        return serverName.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return clientName + "→" + serverName;
    }
}
