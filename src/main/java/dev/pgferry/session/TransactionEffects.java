package dev.pgferry.session;

import dev.pgferry.session.StatementInspector.Findings;

/**
 * What the statements run in the current transaction did to session parameters: the findings of each simple
 * Query as it is relayed, and those of a prepared statement at each Bind of it (found once, at its Parse, see
 * {@link PreparedStatement#effect}). At the transaction's end they tell whether the backend needs a fixup
 * before it goes on: startup values put back after a RESET, unreported parameters read back.
 */
final class TransactionEffects {
    private Findings found;

    /** Findings fresh from the inspector, owned by no one else: kept as they are if they are the first. */
    void adopt(Findings f) {
        if (found == null) {
            found = f;
        } else {
            found.add(f);
        }
    }

    /**
     * A prepared statement's findings, run once more: merged into findings of this transaction's own, never
     * changed themselves (they apply again at the statement's next Bind).
     */
    void add(Findings f) {
        if (found == null) {
            found = new Findings();
        }
        found.add(f);
    }

    /** The transaction's findings, now forgotten here; null if it changed nothing. */
    Findings take() {
        Findings f = found;
        found = null;
        return f;
    }

    void clear() {
        found = null;
    }

    /**
     * Whether the transaction that just ended needs a fixup: a RESET of a startup parameter, which the server
     * returned to its own default, or (for a backend going back to the pool, {@code keeps} false) a SET of an
     * unreported parameter, whose value pgferry must read back to restore it on the next backend.
     */
    boolean needsFixup(SessionParameters params, boolean keeps) {
        Findings f = found;
        if (f == null) {
            return false;
        }
        if (f.resetAll) {
            return true;
        }
        for (String n : f.resetNames) {
            if (params.startup().containsKey(params.canonical(n))) {
                return true;
            }
        }
        if (keeps) {
            return false;
        }
        for (String n : f.touched) {
            if (!params.isReported(params.canonical(n))) {
                return true;
            }
        }
        return false;
    }
}
