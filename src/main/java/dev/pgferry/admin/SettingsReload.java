package dev.pgferry.admin;

import dev.pgferry.auth.CredentialStore;
import dev.pgferry.auth.FileCredentialStore;
import dev.pgferry.config.ConfigRebuild;
import dev.pgferry.config.EffectivePoolConfig;
import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.ForcedUserCredentials;
import dev.pgferry.pool.HostRoles;
import dev.pgferry.pool.HostRoster;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolPlan;
import dev.pgferry.session.SessionContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * RELOAD of the settings (the pgbouncer.ini, a file-system application.properties): the configuration is built again
 * ({@link ConfigRebuild}) and replaces the one in force, and every pool takes its new server and settings
 * ({@link Pool#reconfigure}) without dropping a client: a new pool size applies as backends are released, a new host
 * is used by new backends while the old ones close when released (as RECONNECT), a removed database refuses new
 * logins (with {@code serve-unlisted=false}) and keeps its logged-in clients. A database's forced user added, changed
 * or removed: new logins join the pool of (database, the new forced user) or of (database, their own user), made then,
 * while logged-in clients keep the pool they joined and its backends until they leave; a forced user with no password
 * to log in with refuses the settings, as it stops a start. Keys pgferry reads only at start are
 * named in the answer as needing a restart. A broken file changes nothing. Blocking file I/O: never on an event loop.
 */
final class SettingsReload {
    /** Keys read once at start: a change is reported, and takes effect at the next start. */
    private static final Set<String> AT_START = Set.of("pgferry.listen-host", "pgferry.listen-port",
            "pgferry.unix-socket-dir", "pgferry.unix-socket-mode", "pgferry.backend.connect-timeout",
            "pgferry.backend.channel-binding", "pgferry.pgbouncer-ini", "pgferry.client-idle-timeout",
            "pgferry.pool.idle-transaction-timeout", "pgferry.auth.users-file", "pgferry.auth.hba-file",
            "pgferry.auth.user", "pgferry.auth.query", "pgferry.auth.query-cache-ttl", "pgferry.event-loops",
            "pgferry.max-message-length");
    private static final List<String> AT_START_PREFIXES = List.of("pgferry.tls.", "pgferry.health.",
            "pgferry.shutdown.", "pgferry.dev-postgres.", "pgferry.peer");

    private SettingsReload() {}

    /** Returns a one-line summary; throws IllegalArgumentException with the file's error, changing nothing. */
    static synchronized String run(SessionContext sc) {
        PgferryConfig before = sc.config();
        PgferryConfig after = ConfigRebuild.rebuild();
        checkForcedUsers(sc, after);
        EffectivePoolConfig checked = new EffectivePoolConfig(after);
        after.databases().keySet().stream().filter(checked::hasHostList).forEach(checked::hosts); // a bad list: refused
        Map<String, String> old = values(before);
        Map<String, String> now = values(after);
        List<String> applied = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        for (String key : union(old, now)) {
            if (!String.valueOf(old.get(key)).equals(String.valueOf(now.get(key)))) {
                (atStart(key) ? restart : applied).add(key);
            }
        }
        sc.replaceConfig(after);
        relistHosts(sc, after);
        int reconfigured = 0;
        for (Pool p : sc.pools().all()) {
            if (!sc.servesDatabase(p.key().database())) {
                continue; // removed: its logged-in clients keep the pool as it was, new logins are refused
            }
            PoolPlan plan = PoolPlan.of(after, p.key());
            if (!plan.target().equals(p.target()) || !plan.settings().equals(p.settings())) {
                p.reconfigure(plan.target(), plan.settings());
                reconfigured++;
            }
            HostRoles roles = sc.pools().hostRoles();
            HostRoster roster = roles == null ? null : roles.roster(p.key().database());
            if (roles != null && roster != p.roster()) {
                p.reroute(roster);
                reconfigured++;
            }
            p.growth().databaseLimit().max(plan.maxDbConnections());
            // the limit of the user the pool's backends log in as, chosen when it was made: a forced user changed
            // since then does not log in on this pool's backends
            p.growth().userLimit().max(new EffectivePoolConfig(after).maxUserConnections(p.credentials().user()));
        }
        if (sc.clusterBudget() != null) {
            sc.clusterBudget().reapply(); // pgferry.pool.cluster-max-db-connections
        }
        if (applied.isEmpty() && restart.isEmpty()) {
            return "settings unchanged";
        }
        return "settings reloaded: " + (applied.isEmpty() ? "" : String.join(", ", applied) + " applied ("
                + reconfigured + " pools reconfigured)")
                + (restart.isEmpty() ? "" : (applied.isEmpty() ? "" : "; ") + String.join(", ", restart)
                        + " changed but read at start only: restart to apply");
    }

    /**
     * A database's {@code hosts}, {@code target-role} or {@code max-replica-lag} changed, added or removed: its roster
     * is made anew (new servers checked, servers no list names any more no longer); the pools follow it below.
     */
    private static void relistHosts(SessionContext sc, PgferryConfig after) {
        HostRoles roles = sc.pools().hostRoles();
        if (roles == null) {
            return;
        }
        EffectivePoolConfig e = new EffectivePoolConfig(after);
        // a database taken out keeps its roster: its logged-in clients keep their pool as it was
        for (String database : after.databases().keySet()) {
            boolean listed = e.hasHostList(database);
            roles.relist(database, listed ? e.hosts(database) : null, listed ? e.targetRole(database) : null,
                    listed ? e.maxReplicaLag(database) : null);
        }
    }

    /**
     * Refuses, as start does ({@link ForcedUserCredentials}), a forced user with no password to log in with: neither in its
     * database entry nor in plaintext in the users file, read afresh, as this RELOAD re-reads it next
     * ({@link UsersReload}); otherwise the forced user's pool could not be made at the first login.
     */
    private static void checkForcedUsers(SessionContext sc, PgferryConfig after) {
        CredentialStore store = sc.credentials();
        if (store instanceof FileCredentialStore file) {
            try {
                store = new FileCredentialStore(file.path());
            } catch (java.io.IOException | RuntimeException e) {
                // a broken users file is refused by UsersReload, which keeps the running one: check against that
            }
        }
        EffectivePoolConfig e = new EffectivePoolConfig(after);
        for (String database : after.databases().keySet()) {
            if (e.forcedUser(database).isPresent()) {
                try {
                    ForcedUserCredentials.of(e, store, database);
                } catch (IllegalStateException missing) {
                    throw new IllegalArgumentException(missing.getMessage());
                }
            }
        }
    }

    /** Whether {@code key} is read at start only (SHOW CONFIG's changeable {@code no}). */
    static boolean atStart(String key) {
        return AT_START.contains(key) || AT_START_PREFIXES.stream().anyMatch(key::startsWith);
    }

    private static Map<String, String> values(PgferryConfig c) {
        Map<String, String> out = new LinkedHashMap<>();
        for (List<String> row : ShowConfig.rows(c)) {
            out.put(row.get(0), row.get(1));
        }
        return out;
    }

    private static Set<String> union(Map<String, String> a, Map<String, String> b) {
        Set<String> keys = new java.util.TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        return keys;
    }
}
