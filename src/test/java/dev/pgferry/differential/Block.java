package dev.pgferry.differential;

import java.util.List;

/**
 * What one client does before another one may act: its ops, then — if it is still inside a transaction — COMMIT or
 * ROLLBACK. The harness switches clients only between blocks, so in transaction mode no client waits for a backend
 * another client holds inside a transaction (that would deadlock the sequential driver, not pgferry).
 */
record Block(int client, List<Op> ops, boolean commit) {
    Block {
        ops = List.copyOf(ops);
    }

    /** The statement that ends a transaction left open at the end of the block. */
    String ending() {
        return commit ? "COMMIT" : "ROLLBACK";
    }
}
