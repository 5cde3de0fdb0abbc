package dev.pgferry.admin;

import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.session.ClientControl;
import dev.pgferry.session.SessionContext;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/** What commands work on: the proxy's shared state, the console's own pause state and its command list. */
final class AdminContext {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    final SessionContext sc;
    final PauseState pauses;
    final List<AdminCommand> commands;
    /**
     * Database names a command named (DISABLE, KILL, RECONNECT): pgferry's default backend serves every name, as
     * PgBouncer's {@code *} entry, whose find_or_register_database registers the name a command gives.
     */
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    /** Console connections logged in now: the console database's current_client_connections, as PgBouncer counts. */
    final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * When RECONNECT or KILL last marked each pool's backends: those opened up to this {@link System#nanoTime()}
     * stamp are to be closed (PgBouncer's close_needed), which WAIT_CLOSE waits for. Taken before the pool is told,
     * so a backend opened in between is not waited for, rather than one waited for that the pool keeps.
     */
    private final java.util.Map<Pool, Long> closeMarks = new ConcurrentHashMap<>();

    AdminContext(SessionContext sc, PauseState pauses, List<AdminCommand> commands) {
        this.sc = sc;
        this.pauses = pauses;
        this.commands = commands;
    }

    /** Pools ordered by database, then user, as SHOW output reads best. */
    List<Pool> pools() {
        return sc.pools().all().stream()
                .sorted(Comparator.comparing((Pool p) -> p.key().database()).thenComparing(p -> p.key().user()))
                .toList();
    }

    /** Backends open or being opened of the pools whose key {@code which} accepts. */
    int servers(Predicate<PoolKey> which) {
        int n = 0;
        for (Pool p : sc.pools().all()) {
            n += which.test(p.key()) ? p.growth().total() : 0;
        }
        return n;
    }

    /** Logged-in clients, and logins waiting for their pool, of the pools whose key {@code which} accepts. */
    int clients(Predicate<PoolKey> which) {
        int n = 0;
        for (ClientControl s : sc.loggedInClients()) {
            n += which.test(s.pool().key()) ? 1 : 0;
        }
        for (ClientControl l : sc.waitingLogins()) {
            n += l.pool() != null && which.test(l.pool().key()) ? 1 : 0;
        }
        return n;
    }

    /**
     * Logged-in clients, and logins waiting for their pool, that logged in as {@code user} (with a database's forced
     * user, whatever their pool's user).
     */
    int clientsOfUser(String user) {
        int n = 0;
        for (ClientControl s : sc.loggedInClients()) {
            n += user.equals(s.user()) ? 1 : 0;
        }
        for (ClientControl l : sc.waitingLogins()) {
            n += l.pool() != null && user.equals(l.user()) ? 1 : 0;
        }
        return n;
    }

    /**
     * PgBouncer's database list: the admin console's own, the configured ones (pgferry.databases), and those of the
     * default backend that have a pool, are paused or disabled, or that a command named; ordered by name.
     */
    SortedSet<String> databases() {
        SortedSet<String> names = new TreeSet<>(registered);
        names.add(AdminConsole.DATABASE);
        names.addAll(sc.config().databases().keySet());
        sc.pools().all().forEach(p -> names.add(p.key().database()));
        names.addAll(sc.disabledDatabases());
        names.addAll(pauses.databases());
        return names;
    }

    /** Registers {@code database} as PgBouncer's find_or_register_database does for a {@code *} entry. */
    void register(String database) {
        registered.add(database);
    }

    /** Notes that {@code pool}'s backends open now are to be closed; call before the pool's reconnect or kill. */
    void markForClose(Pool pool) {
        closeMarks.put(pool, System.nanoTime());
    }

    /** The stamp of {@link #markForClose} for {@code pool}, or null when it was never marked. */
    Long closeMark(Pool pool) {
        return closeMarks.get(pool);
    }

    /** The pools of {@code database}, or of every database when it is null. */
    List<Pool> poolsOf(String database) {
        return pools().stream().filter(p -> database == null || p.key().database().equals(database)).toList();
    }

    static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    /** Wall-clock milliseconds of a {@link System#nanoTime()} stamp. */
    static long epochMillis(long nanoStamp) {
        return System.currentTimeMillis() - (System.nanoTime() - nanoStamp) / 1_000_000;
    }

    /**
     * {@code host} and {@code port} of a socket address printed as {@code /127.0.0.1:5432}, or of a Unix-socket
     * client's {@code unix:6432} (see {@code ClientSession.remoteAddress}).
     */
    static String[] hostPort(Object address) {
        String s = String.valueOf(address);
        int slash = s.indexOf('/');
        s = slash >= 0 ? s.substring(slash + 1) : s;
        int colon = s.lastIndexOf(':');
        return colon < 0 ? new String[] {s, null} : new String[] {s.substring(0, colon), s.substring(colon + 1)};
    }
}
