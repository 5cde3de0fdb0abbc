package dev.pgferry.admin;

import dev.pgferry.config.ConfigOrigin;
import dev.pgferry.config.PgferryConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * SHOW CONFIG: the effective configuration. {@code changeable} is PgBouncer's: {@code yes} for what RELOAD applies
 * ({@link SettingsReload}), {@code no} for what is read at start only, {@code contents on RELOAD} for the users and
 * HBA files, whose path is fixed but whose contents are read again. The last column, {@code source}, says where
 * each value came from ({@link ConfigOrigin}): PgBouncer's columns are key, value, default, changeable; a column
 * added at the end leaves a reader of the others by name or by position undisturbed.
 */
final class ShowConfig implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHOW", "CONFIG");
    }

    @Override
    public String help() {
        return "SHOW CONFIG: the configuration in force, and what RELOAD can change";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        List<List<String>> rows = rows(admin.sc.config());
        if (admin.sc.clusterBudget() != null) {
            // not settings but what this replica takes of the cluster budget now, as peers come and go
            admin.sc.clusterBudget().shares().forEach((db, share) -> rows.add(List.of("pgferry.cluster-share." + db,
                    String.valueOf(share), "no", "peers alive: " + admin.sc.clusterBudget().alive())));
        }
        return AdminResult.rows(List.of("key", "value", "changeable", "source"), rows);
    }

    /** (key, value, changeable, source) for every key of {@code c}. */
    static List<List<String>> rows(PgferryConfig c) {
        List<List<String>> rows = new ArrayList<>();
        add(rows, "listen-host", c.listenHost());
        add(rows, "listen-port", c.listenPort());
        add(rows, "unix-socket-dir", c.unixSocketDir().orElse(""));
        add(rows, "unix-socket-mode", c.unixSocketMode());
        add(rows, "client-login-timeout", c.clientLoginTimeout());
        add(rows, "client-idle-timeout", c.clientIdleTimeout());
        add(rows, "max-message-length", c.maxMessageLength());
        add(rows, "client-max-logins-per-address", c.clientMaxLoginsPerAddress());
        add(rows, "backend.host", c.backend().host());
        add(rows, "backend.port", c.backend().port());
        add(rows, "backend.connect-timeout", c.backend().connectTimeout());
        add(rows, "backend.serve-unlisted", c.backend().serveUnlisted());
        add(rows, "pgbouncer-ini", c.pgbouncerIni().map(Object::toString).orElse(""));
        c.databases().forEach((name, db) -> {
            String p = "databases.\"" + name + "\".";
            db.host().ifPresent(v -> add(rows, p + "host", v));
            db.port().ifPresent(v -> add(rows, p + "port", v));
            db.hosts().ifPresent(v -> add(rows, p + "hosts", v));
            db.targetRole().ifPresent(v -> add(rows, p + "target-role", v.word()));
            db.maxReplicaLag().ifPresent(v -> add(rows, p + "max-replica-lag", v));
            db.dbname().ifPresent(v -> add(rows, p + "dbname", v));
            db.poolSize().ifPresent(v -> add(rows, p + "pool-size", v));
            db.poolMode().ifPresent(v -> add(rows, p + "pool-mode", v));
            db.minPoolSize().ifPresent(v -> add(rows, p + "min-pool-size", v));
            db.reserveSize().ifPresent(v -> add(rows, p + "reserve-size", v));
            db.maxDbConnections().ifPresent(v -> add(rows, p + "max-db-connections", v));
            db.clusterMaxDbConnections().ifPresent(v -> add(rows, p + "cluster-max-db-connections", v));
            db.user().ifPresent(v -> add(rows, p + "user", v));
            db.password().ifPresent(v -> add(rows, p + "password", "<hidden>"));
        });
        c.users().forEach((name, user) -> {
            String p = "users.\"" + name + "\".";
            user.poolSize().ifPresent(v -> add(rows, p + "pool-size", v));
            user.poolMode().ifPresent(v -> add(rows, p + "pool-mode", v));
            user.reserveSize().ifPresent(v -> add(rows, p + "reserve-size", v));
            user.maxUserConnections().ifPresent(v -> add(rows, p + "max-user-connections", v));
        });
        PgferryConfig.Pool pool = c.pool();
        add(rows, "pool.mode", pool.mode());
        add(rows, "pool.size", pool.size());
        add(rows, "pool.max-client-connections", pool.maxClientConnections());
        add(rows, "pool.min-idle", pool.minIdle());
        add(rows, "pool.idle-timeout", pool.idleTimeout());
        add(rows, "pool.max-lifetime", pool.maxLifetime());
        add(rows, "pool.query-wait-timeout", pool.queryWaitTimeout());
        add(rows, "pool.idle-transaction-timeout", pool.idleTransactionTimeout());
        add(rows, "pool.max-db-connections", pool.maxDbConnections());
        add(rows, "pool.max-user-connections", pool.maxUserConnections());
        add(rows, "pool.cluster-max-db-connections", pool.clusterMaxDbConnections());
        add(rows, "pool.reserve-size", pool.reserveSize());
        add(rows, "pool.reserve-timeout", pool.reserveTimeout());
        add(rows, "pool.pinning", pool.pinning());
        add(rows, "pool.check-delay", pool.checkDelay());
        add(rows, "pool.listen", pool.listen());
        add(rows, "notify.max-queued", c.notifications().maxQueued());
        add(rows, "notify.listener-idle-timeout", c.notifications().listenerIdleTimeout());
        add(rows, "auth.type", c.auth().type());
        rows.add(List.of("pgferry.auth.users-file", c.auth().usersFile().map(Object::toString).orElse(""),
                "contents on RELOAD", ConfigOrigin.of("pgferry.auth.users-file")));
        rows.add(List.of("pgferry.auth.hba-file", c.auth().hbaFile().map(Object::toString).orElse(""),
                "contents on RELOAD", ConfigOrigin.of("pgferry.auth.hba-file")));
        add(rows, "auth.user", c.auth().user().orElse(""));
        add(rows, "auth.query", c.auth().query());
        add(rows, "auth.query-cache-ttl", c.auth().queryCacheTtl());
        add(rows, "tls.client.mode", c.tls().client().mode());
        add(rows, "tls.client.cert-file", c.tls().client().certFile().map(Object::toString).orElse(""));
        add(rows, "tls.client.ca-file", c.tls().client().caFile().map(Object::toString).orElse(""));
        add(rows, "tls.server.mode", c.tls().server().mode());
        add(rows, "tls.server.ca-file", c.tls().server().caFile().map(Object::toString).orElse(""));
        add(rows, "prepared.max-per-backend", c.prepared().maxPerBackend());
        add(rows, "admin.users", String.join(",", c.admin().users()));
        add(rows, "admin.pause-timeout", c.admin().pauseTimeout());
        add(rows, "health.backend-check-interval", c.health().backendCheckInterval());
        add(rows, "health.default-database", c.health().defaultDatabase());
        add(rows, "health.check-user", c.health().checkUser().orElse(""));
        add(rows, "shutdown.drain-timeout", c.shutdown().drainTimeout());
        add(rows, "peer-id", c.peerId().isPresent() ? c.peerId().getAsInt() : "");
        c.peers().forEach((id, peer) -> {
            add(rows, "peers.\"" + id + "\".host", peer.host());
            add(rows, "peers.\"" + id + "\".port", peer.port());
        });
        add(rows, "peers-dns", c.peersDns().orElse(""));
        add(rows, "peers-dns-server", c.peersDnsServer().orElse(""));
        add(rows, "peer-probe-interval", c.peerProbeInterval());
        return rows;
    }

    private static void add(List<List<String>> rows, String key, Object value) {
        String v = value instanceof Enum<?> e ? e.name().toLowerCase().replace('_', '-')
                : value instanceof java.time.Duration d ? duration(d) : String.valueOf(value);
        String name = "pgferry." + key;
        rows.add(List.of(name, v, SettingsReload.atStart(name) ? "no" : "yes", ConfigOrigin.of(name)));
    }

    /** A duration as it is configured: {@code 2s}, {@code 1500ms} (not Java's {@code PT2S}). */
    static String duration(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
