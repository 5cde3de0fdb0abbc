package dev.pgferry.admin;

import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.ClientCounts;
import dev.pgferry.session.SessionContext;
import dev.pgferry.session.VirtualDatabase;
import io.netty.channel.ChannelHandler;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The virtual database {@code pgferry}, PgBouncer's admin console: users in {@code pgferry.admin.users} log in as
 * to any database and send SHOW POOLS, PAUSE, RELOAD… as simple queries. Commands run one at a time on a worker
 * thread of the console's own, so that reading the users file or asking every event loop for its idle backends
 * never holds up an event loop. A command that waits (PAUSE) does not hold the worker either: it answers with a
 * future, and other connections' commands run meanwhile.
 */
public final class AdminConsole implements VirtualDatabase {
    public static final String DATABASE = "pgferry";

    private final SessionContext sc;
    private final AdminContext admin;
    private final ExecutorService worker;

    public AdminConsole(SessionContext sc) {
        this.sc = sc;
        List<AdminCommand> commands = List.of(new ShowHelp(), new ShowPools(new ClientCounts(() -> sc)),
                new ShowClients(), new ShowServers(), new ShowStats(), new ShowTotals(), new ShowDatabases(),
                new ShowUsers(), new ShowLists(), new ShowListeners(), new ShowConfig(), new ShowVersion(), new Pause(), new Resume(),
                new Disable(), new Enable(), new Reconnect(), new Kill(), new KillClient(), new WaitClose(),
                new Reload(), new Shutdown(), new SetParameter());
        this.admin = new AdminContext(sc, new PauseState(sc.pools()), commands);
        this.worker = new ThreadPoolExecutor(0, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "pgferry-admin");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return DATABASE;
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        // clients parse server_version; a PostgreSQL-shaped value keeps psql and pgjdbc content
        p.put("server_version", "16.0 (" + ShowVersion.version() + ")");
        p.put("server_encoding", "UTF8");
        p.put("client_encoding", "UTF8");
        p.put("DateStyle", "ISO, MDY");
        p.put("TimeZone", "UTC");
        p.put("integer_datetimes", "on");
        p.put("standard_conforming_strings", "on");
        p.put("application_name", "");
        return p;
    }

    @Override
    public ChannelHandler open(String user, String connectionId) throws ProtocolException {
        if (!sc.config().admin().users().contains(user)) {
            throw new ProtocolException(SqlState.INSUFFICIENT_PRIVILEGE,
                    "permission denied for admin console: user \"" + user + "\" is not in pgferry.admin.users");
        }
        return new AdminConnection(this, connectionId, sc.config().maxMessageLength());
    }

    /** Counts a logged-in console connection until {@code closed} completes (SHOW DATABASES). */
    void connectionOpened(io.netty.channel.ChannelFuture closed) {
        admin.connections.incrementAndGet();
        closed.addListener(f -> admin.connections.decrementAndGet());
    }

    /**
     * Runs the statements of one Query message (separated by ';') in order on the worker; stops at the first
     * error. A statement answered {@link AdminResult#later} holds up the next one, not the worker.
     */
    CompletableFuture<List<Outcome>> execute(String query) {
        List<String> statements = new ArrayList<>();
        for (String statement : query.split(";")) {
            if (!statement.isBlank()) {
                statements.add(statement.strip());
            }
        }
        return next(statements.iterator(), new ArrayList<>());
    }

    private CompletableFuture<List<Outcome>> next(Iterator<String> statements, List<Outcome> out) {
        if (!statements.hasNext()) {
            return CompletableFuture.completedFuture(out);
        }
        String statement = statements.next();
        return CompletableFuture.supplyAsync(() -> start(statement), worker).thenCompose(f -> f).thenCompose(o -> {
            out.add(o);
            return o.result() == null ? CompletableFuture.completedFuture(out) : next(statements, out);
        });
    }

    /** One statement, on the worker: its outcome, or the future one of a command that waits. */
    private CompletableFuture<Outcome> start(String statement) {
        try {
            AdminResult r = dispatch(statement);
            if (r.pending() == null) {
                return CompletableFuture.completedFuture(Outcome.ok(r));
            }
            return r.pending().handle((later, failure) -> failure == null ? Outcome.ok(later) : failed(failure));
        } catch (AdminException | RuntimeException e) {
            return CompletableFuture.completedFuture(failed(e));
        }
    }

    /** The failure a {@link CompletableFuture} stage saw, without the CompletionException it comes wrapped in. */
    static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private static Outcome failed(Throwable failure) {
        Throwable e = unwrap(failure);
        return e instanceof AdminException a ? Outcome.failed(a.sqlState(), a.getMessage())
                : Outcome.failed(SqlState.INTERNAL_ERROR, "admin command failed: " + e);
    }

    private AdminResult dispatch(String statement) throws AdminException {
        List<String> tokens = List.of(statement.split("\\s+"));
        AdminCommand best = null;
        for (AdminCommand c : admin.commands) {
            if (startsWith(tokens, c.words()) && (best == null || c.words().size() > best.words().size())) {
                best = c;
            }
        }
        if (best == null) {
            throw AdminException.syntax("unrecognized command: \"" + statement + "\" (SHOW HELP lists the commands)");
        }
        return best.run(admin, tokens.subList(best.words().size(), tokens.size()));
    }

    private static boolean startsWith(List<String> tokens, List<String> words) {
        if (tokens.size() < words.size()) {
            return false;
        }
        for (int i = 0; i < words.size(); i++) {
            if (!tokens.get(i).toUpperCase(Locale.ROOT).equals(words.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** A command's answer, or the error that replaced it. */
    record Outcome(AdminResult result, String sqlState, String message) {
        static Outcome ok(AdminResult r) {
            return new Outcome(r, null, null);
        }

        static Outcome failed(String sqlState, String message) {
            return new Outcome(null, sqlState, message);
        }
    }
}
