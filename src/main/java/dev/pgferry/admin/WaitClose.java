package dev.pgferry.admin;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.Pool;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.ClientControl;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * WAIT_CLOSE [db], as PgBouncer's (1.15+): answers once every server connection of the database (of every database
 * without a name) that RECONNECT or KILL marked to be closed (PgBouncer's close_needed) is closed, at once when there
 * is none; for switchover scripts, after a RECONNECT. As PgBouncer's, it has no time limit. It waits as PAUSE does,
 * without holding the console's worker: it looks every {@value #POLL_MILLIS} ms at each marked pool's idle backends,
 * those its clients hold and those held for a cancel, and goes on waiting while one opened before the mark is among
 * them, or while the pool has backends it cannot see there (being opened, or being rolled back after their client
 * left), which may be marked ones. {@code cannot wait in admin db: pgferry} (0A000).
 */
final class WaitClose implements AdminCommand {
    static final long POLL_MILLIS = 50;
    private static final Executor LATER = CompletableFuture.delayedExecutor(POLL_MILLIS, TimeUnit.MILLISECONDS);

    @Override
    public List<String> words() {
        return List.of("WAIT_CLOSE");
    }

    @Override
    public String help() {
        return "WAIT_CLOSE [db]: returns once every server connection of db marked by RECONNECT or KILL is closed";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = Resume.database(this, args);
        if (AdminConsole.DATABASE.equals(db)) {
            throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED, "cannot wait in admin db: " + db);
        }
        if (db != null) {
            admin.register(db);
        }
        List<Pool> marked = new ArrayList<>();
        for (Pool p : admin.poolsOf(db)) {
            if (admin.closeMark(p) != null) {
                marked.add(p);
            }
        }
        CompletableFuture<AdminResult> answer = new CompletableFuture<>();
        poll(admin, marked, answer);
        return AdminResult.later(answer);
    }

    private static void poll(AdminContext admin, List<Pool> pools, CompletableFuture<AdminResult> answer) {
        List<CompletableFuture<Boolean>> open = new ArrayList<>();
        for (Pool p : pools) {
            open.add(markedOpen(admin, p));
        }
        CompletableFuture.allOf(open.toArray(CompletableFuture<?>[]::new)).whenComplete((v, failure) -> {
            if (failure != null) {
                answer.completeExceptionally(failure);
            } else if (open.stream().anyMatch(CompletableFuture::join)) {
                LATER.execute(() -> poll(admin, pools, answer));
            } else {
                answer.complete(AdminResult.done("WAIT_CLOSE", null));
            }
        });
    }

    /** Whether {@code pool} may still have a backend opened before its mark. */
    private static CompletableFuture<Boolean> markedOpen(AdminContext admin, Pool pool) {
        long mark = admin.closeMark(pool);
        List<ServerConnection> held = new ArrayList<>();
        for (ClientControl s : admin.sc.loggedInClients()) {
            ServerConnection c = s.pool() == pool ? s.backend() : null;
            if (c != null) {
                held.add(c);
            }
        }
        return pool.stats().idleConnections().thenCombine(pool.stats().beingCanceledConnections(), (idle, canceling) -> {
            List<ServerConnection> seen = new ArrayList<>(held);
            seen.addAll(idle);
            seen.addAll(canceling);
            // seen on different threads at different instants: a backend moving between a client and the idle list
            // may be seen twice or not at all, so a count short of the total only makes the wait go on a poll more
            boolean unseen = pool.growth().total() > seen.size();
            return unseen || seen.stream().anyMatch(c -> c.createdNanos() - mark <= 0);
        });
    }
}
