package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Readies a backend that one client kept (session mode, or a pinned client) for the next client, who must find it as
 * a fresh server session: {@code DISCARD ALL}, PgBouncer's {@code server_reset_query}, resets what can be reset.
 * Two things survive it, and a backend that has either is closed instead of returned:
 * <ul>
 * <li>The temporary namespace. {@code DISCARD ALL} drops the temporary objects but not the {@code pg_temp_N} schema,
 * which a backend creates once, at its first use, and keeps to its end (namespace.c, {@code InitTempTableNamespace}).
 * A client can tell: with {@code search_path = pg_temp}, {@code current_schema()} in a fresh session creates it and
 * marks the transaction as having operated on temporary objects, which {@code PREPARE TRANSACTION} refuses; where it
 * exists already, it does not. {@code pg_my_temp_schema()}, asked in the same round trip as the reset, tells whether
 * it exists (0 when not), for any way it came to be (a temp table, {@code current_schema()}, a function).</li>
 * <li>Loaded libraries ({@code LOAD}, or a procedural language's handler). A library cannot be unloaded, and which
 * ones a backend has loaded is not visible in SQL; a client can tell by the prefix of its configuration parameters
 * being reserved ({@code SET plpgsql.x} is an error once PL/pgSQL is loaded, a placeholder before). So the statements
 * whose own effect is to load a library mark the backend not to be reused when the client that kept it sees them
 * ({@link StatementInspector.Findings#loadsLibrary}: {@code LOAD}, {@code DO}, {@code CREATE FUNCTION} and
 * {@code PROCEDURE}); such a backend is closed without a reset. A library loaded by calling a function that
 * already exists (a PL/pgSQL function or trigger, a C function of an extension) is not seen: every session of an
 * application that uses PL/pgSQL would otherwise cost a new server connection.</li>
 * </ul>
 */
final class SessionReset {
    private static final Logger LOG = Logger.getLogger(SessionReset.class);
    /** Sent as two Query messages in one write: DISCARD ALL refuses to run inside a multi-statement Query. */
    private static final List<String> QUERIES = List.of("DISCARD ALL",
            "SELECT pg_catalog.pg_my_temp_schema() <> 0");

    interface Done {
        /** {@code reusable}: the backend may go back to the pool; otherwise it is closed. */
        void done(ServerConnection c, boolean reusable);
    }

    private SessionReset() {}

    /** Resets {@code conn} (at ReadyForQuery 'I', nothing pending), then tells {@code done} whether it is reusable. */
    static void run(ServerConnection conn, String clientId, Done done) {
        InternalQuery.runEach(conn, QUERIES, (cc, r) -> {
            if (r.ok()) {
                cc.unreported.clear();
                cc.prepared.clear();
            }
            boolean tempSchema = r.ok() && r.lastRow != null && "t".equals(r.lastRow.get(0));
            if (tempSchema) {
                LOG.debugf("%s left a temporary namespace on %s: closed, not reused", clientId, cc);
            }
            done.done(cc, r.ok() && r.status == 'I' && !tempSchema);
        });
    }
}
