package dev.pgferry.admin;

import dev.pgferry.pool.Pool;
import dev.pgferry.protocol.SqlState;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * PAUSE [db], as PgBouncer's: no backend is handed out for the database (every database without a name); clients
 * starting a transaction wait in the queue, up to pgferry.pool.query-wait-timeout. Idle backends are closed, and
 * each backend still out with a client is closed when its transaction ends. The answer comes once no backend of
 * the database is left open, so that the server can be restarted; after pgferry.admin.pause-timeout it is an
 * error naming the pools still holding backends, and the pause stays. Pools created later for a paused database
 * start paused.
 */
final class Pause implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("PAUSE");
    }

    @Override
    public String help() {
        return "PAUSE [db]: new transactions wait until RESUME; returns once running ones ended and every backend is closed";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = Resume.database(this, args);
        if (AdminConsole.DATABASE.equals(db)) { // PgBouncer: "cannot pause admin db"
            throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED,
                    "cannot pause the admin console database \"" + db + "\"");
        }
        String what = db == null ? "all databases" : "database \"" + db + "\"";
        List<PauseState.Drain> drains = admin.pauses.pause(db);
        Duration limit = admin.sc.config().admin().pauseTimeout();
        CompletableFuture<AdminResult> answer = CompletableFuture
                .allOf(drains.stream().map(PauseState.Drain::drained).toArray(CompletableFuture<?>[]::new))
                .orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS)
                .handle((v, failure) -> {
                    if (failure == null) {
                        return AdminResult.done("PAUSE", what + " paused: " + drains.size()
                                + " pools, no server connection left open (pools created later start paused)");
                    }
                    throw new CompletionException(refusal(what, limit, drains, failure));
                });
        return AdminResult.later(answer);
    }

    /** The error of a PAUSE that did not see every backend closed. */
    static AdminException refusal(String what, Duration limit, List<PauseState.Drain> drains, Throwable failure) {
        Throwable cause = AdminConsole.unwrap(failure);
        if (cause instanceof CancellationException) {
            return new AdminException(SqlState.QUERY_CANCELED,
                    "PAUSE of " + what + " ended by RESUME before every server connection was closed");
        }
        if (!(cause instanceof TimeoutException)) {
            return new AdminException(SqlState.INTERNAL_ERROR, "PAUSE of " + what + " failed: " + cause);
        }
        StringBuilder open = new StringBuilder();
        for (PauseState.Drain d : drains) {
            if (!d.drained().isDone()) {
                Pool.PoolCounts n = d.pool().stats().counts();
                open.append(open.isEmpty() ? "" : ", ").append('"').append(d.pool().key()).append("\" (")
                        .append(n.active()).append(" active, ").append(n.connecting()).append(" connecting)");
            }
        }
        return new AdminException(SqlState.QUERY_CANCELED, "PAUSE timed out after " + readable(limit)
                + " (pgferry.admin.pause-timeout): pools with server connections still open: " + open + "; "
                + what + " stays paused, RESUME ends it");
    }

    private static String readable(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
