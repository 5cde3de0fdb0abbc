package dev.pgferry.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** The whole pgferry configuration: {@code application.properties} or environment, prefix {@code pgferry}. */
@ConfigMapping(prefix = "pgferry")
public interface PgferryConfig {

    /** Address the PostgreSQL listener binds. */
    @WithDefault("0.0.0.0")
    String listenHost();

    /** Port the PostgreSQL listener binds. */
    @WithDefault("6432")
    int listenPort();

    /**
     * Directory of a Unix-domain socket pgferry listens on besides TCP, named {@code <dir>/.s.PGSQL.<listen-port>} as
     * PostgreSQL's and PgBouncer's ({@code psql -h <dir> -p <port>} finds it); unset, none. A client beside pgferry (a
     * sidecar sharing an emptyDir) skips loopback TCP. There is no TLS on it, as in PostgreSQL: SSLRequest gets 'N'
     * and {@code pgferry.tls.client.mode=require} does not refuse its clients (a local socket is PostgreSQL's
     * {@code local} hba line, which SSL does not concern). Needs the native transport (epoll). A socket file left by a
     * run that crashed is replaced; one another server accepts connections on stops the start.
     */
    Optional<String> unixSocketDir();

    /** File mode of that socket, octal as PgBouncer's {@code unix_socket_mode}; connecting needs write permission. */
    @WithDefault("0777")
    String unixSocketMode();

    /**
     * Event loops that serve PostgreSQL clients and their backends (each client and the backends it leases stay
     * on one loop). 0 picks half the available cores, at least 1: on a host shared with PostgreSQL, one loop per
     * two cores leaves the server room and spares the hand-offs of idle backends between loops. On a host of its
     * own, set it to the core count. At most Vert.x's event-loop count ({@code quarkus.vertx.event-loops-pool-size}).
     */
    @WithDefault("0")
    int eventLoops();

    /** A client that has not completed startup and authentication by then is closed. */
    @WithDefault("15s")
    Duration clientLoginTimeout();

    /**
     * A logged-in client holding no backend that sends nothing for longer than this is closed with FATAL 08P01
     * {@code client_idle_timeout}, as PgBouncer's {@code client_idle_timeout}; 0 disables. A client holding a backend
     * at rest (session mode, a pinned client) is exempt, as PgBouncer's janitor skips a client linked to a server.
     */
    @WithDefault("0s")
    Duration clientIdleTimeout();

    /** Logins in progress from one client address at most (hardening against login floods); 0 means no limit. */
    @WithDefault("0")
    int clientMaxLoginsPerAddress();

    /** Largest regular protocol message accepted from a client, in bytes (length field included). */
    @WithDefault("67108864")
    int maxMessageLength();

    /** The default backend, used for every database name without its own entry (PgBouncer's {@code * =}). */
    Backend backend();

    /** Per-database overrides, keyed by the name clients connect to. */
    Map<String, Database> databases();

    /** Per-user pool settings, keyed by user name (PgBouncer's {@code [users]} section). */
    Map<String, User> users();

    /**
     * A PgBouncer {@code pgbouncer.ini} read as a configuration source below every explicit {@code pgferry.*} setting:
     * its keys are mapped to pgferry's, keys pgferry does not support are listed in one WARN line at start, and a key
     * it cannot honour safely stops the start with the file and line. See docs/migrating-from-pgbouncer.md.
     */
    Optional<Path> pgbouncerIni();

    /**
     * This replica's id among its peers, 1..16383 (PgBouncer's {@code peer_id}): every cancel key it issues carries it,
     * so a CancelRequest that the load balancer sends to another replica is forwarded here. Unset, there is no peering;
     * with {@code peers-dns} it is taken from the pod's StatefulSet ordinal (hostname {@code name-N}: N + 1).
     */
    OptionalInt peerId();

    /** The other replicas by id (PgBouncer's {@code [peers]}): {@code pgferry.peers."2".host=…}, {@code .port}. */
    Map<String, Peer> peers();

    /**
     * {@code <headless service>:<port>}: the peers are the pods behind it, re-resolved every {@code peer-probe-interval};
     * peer N is {@code <statefulset>-<N-1>.<service>}, the StatefulSet's name taken from this pod's hostname.
     */
    Optional<String> peersDns();

    /**
     * {@code <host>:<port>} of the DNS server that {@code peers-dns} is asked of; unset, those of {@code
     * /etc/resolv.conf} (in a pod, the cluster's DNS). The name is asked anew every round, past the JVM's address cache.
     */
    Optional<String> peersDnsServer();

    /** How often peers are probed (a TCP connect to each one's port) or their DNS name resolved again. */
    @WithDefault("2s")
    Duration peerProbeInterval();

    /** One peer: where its PostgreSQL listener is. */
    interface Peer {
        String host();

        @WithDefault("6432")
        int port();
    }

    /** Pool sizing, mode and timeouts. */
    Pool pool();

    /** Client authentication. */
    Auth auth();

    /** Protocol-level prepared statements in transaction mode. */
    Prepared prepared();

    /** LISTEN/NOTIFY fan-out in transaction mode ({@code pgferry.pool.listen=fanout}). */
    @WithName("notify")
    Notify notifications();

    /** Admin console on the virtual database {@code pgferry}. */
    Admin admin();

    /** Health checks. */
    Health health();

    /** Graceful shutdown. */
    Shutdown shutdown();

    /** Throwaway local PostgreSQL started by pgferry itself (dev profile). */
    DevPostgres devPostgres();

    /** TLS towards clients, negotiated during onboarding, and towards PostgreSQL. */
    TlsConfig tls();

    interface Backend {
        /** Host of the default PostgreSQL server. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of the default PostgreSQL server. */
        @WithDefault("5432")
        int port();

        /** How long opening and authenticating one backend connection may take. */
        @WithDefault("10s")
        Duration connectTimeout();

        /**
         * SCRAM channel binding towards PostgreSQL, as libpq's {@code channel_binding}: {@code prefer} binds the login
         * to the server's TLS certificate (SCRAM-SHA-256-PLUS) when the server offers it, {@code require} refuses any
         * backend login that is not so bound (no TLS, cleartext, MD5, trust, plain SCRAM, and so passthrough, where the
         * client's own exchange is relayed), {@code disable} never binds.
         */
        @WithDefault("prefer")
        ChannelBindingMode channelBinding();

        /**
         * Whether a database name without its own {@code pgferry.databases} entry is served by this default backend
         * (PgBouncer's {@code *} entry). {@code false} refuses such a login with FATAL {@code no such database}, as
         * PgBouncer does without a {@code *} entry.
         */
        @WithDefault("true")
        boolean serveUnlisted();
    }

    enum ChannelBindingMode {
        DISABLE,
        PREFER,
        REQUIRE
    }

    interface Database {
        /** Host of this database's server; the default backend's when absent. */
        Optional<String> host();

        /** Port of this database's server; the default backend's when absent. */
        OptionalInt port();

        /**
         * Servers of this database as {@code host:port,host:port} (a port left out is {@code port}'s); wins over
         * {@code host}. New backends go to a host whose role {@code target-role} accepts. An empty list is an error.
         */
        Optional<String> hosts();

        /**
         * Which hosts serve this database, in libpq's words: {@code read-write}, {@code primary}, {@code read-only},
         * {@code standby}, {@code prefer-standby}, {@code any}; {@code read-write} for a host list, any for one host.
         */
        Optional<dev.pgferry.hosts.TargetRole> targetRole();

        /**
         * A standby of the {@code hosts} list replaying further behind than this ({@code now() -
         * pg_last_xact_replay_timestamp()} while it has WAL left to replay) gets no new backends; unset, lag does not
         * matter.
         */
        Optional<Duration> maxReplicaLag();

        /** Database name on the server; the name the client used when absent. */
        Optional<String> dbname();

        /** Pool size for this database; {@code pgferry.pool.size} when absent. */
        OptionalInt poolSize();

        /** Pool mode for this database; {@code pgferry.pool.mode} when absent. */
        Optional<PoolMode> poolMode();

        /** Backends kept open per pool of this database even when idle; {@code pgferry.pool.min-idle} when absent. */
        OptionalInt minPoolSize();

        /** Reserve backends per pool of this database; {@code pgferry.pool.reserve-size} when absent. */
        OptionalInt reserveSize();

        /** Backends of this database across all users at most; {@code pgferry.pool.max-db-connections} when absent or 0. */
        OptionalInt maxDbConnections();

        /** Backends of this database for all peers together; {@code pgferry.pool.cluster-max-db-connections} when absent. */
        OptionalInt clusterMaxDbConnections();

        /**
         * User every backend of this database logs in as, whoever the client is (PgBouncer's forced {@code user=});
         * the client still authenticates as itself.
         */
        Optional<String> user();

        /** Plaintext password of that forced user; the users file's entry for it when absent. */
        Optional<String> password();
    }

    /** One user's pool settings, PgBouncer's {@code [users]}: they win over the database's and the global ones. */
    interface User {
        /** Pool size of this user's pools; the database's or {@code pgferry.pool.size} when absent. */
        OptionalInt poolSize();

        /** Pool mode of this user's pools; the database's or {@code pgferry.pool.mode} when absent. */
        Optional<PoolMode> poolMode();

        /** Reserve backends per pool of this user; the database's or {@code pgferry.pool.reserve-size} when absent. */
        OptionalInt reserveSize();

        /** Backends of this user across all databases at most; {@code pgferry.pool.max-user-connections} when absent or 0. */
        OptionalInt maxUserConnections();
    }

    interface Pool {
        /** {@code session}: a client keeps its backend; {@code transaction}: only while a transaction runs. */
        @WithDefault("transaction")
        PoolMode mode();

        /** Backends per (database, user) at most. */
        @WithDefault("20")
        int size();

        /** Client connections accepted at most. */
        @WithDefault("10000")
        int maxClientConnections();

        /** Backends kept open per (database, user) even when idle. */
        @WithDefault("0")
        int minIdle();

        /** An idle backend unused for this long is closed. */
        @WithDefault("600s")
        Duration idleTimeout();

        /** A backend older than this is closed when it is next released. */
        @WithDefault("3600s")
        Duration maxLifetime();

        /** A backend idle longer than this is checked with an empty query before it is leased (PgBouncer's server_check_delay). */
        @WithDefault("30s")
        Duration checkDelay();

        /** A client waiting this long for a backend gets an error. */
        @WithDefault("120s")
        Duration queryWaitTimeout();

        /**
         * A client idle inside a transaction (its last ReadyForQuery 'T' or 'E', nothing of its own running) for
         * longer than this is closed with FATAL 08P01 {@code idle transaction timeout}, as PgBouncer's
         * {@code idle_transaction_timeout}; its backend is rolled back and returned. 0 disables.
         */
        @WithDefault("0s")
        Duration idleTransactionTimeout();

        /** Backends per database across all users at most; 0 means no limit. */
        @WithDefault("0")
        int maxDbConnections();

        /**
         * Backends per database for all peers together (the replicas of {@code pgferry.peers} or {@code peers-dns});
         * each takes its share, this total divided by the peers it sees alive, rounded down, at least 1, within its own
         * {@code max-db-connections}. 0 means no cluster budget.
         */
        @WithDefault("0")
        int clusterMaxDbConnections();

        /**
         * Backends per user across all databases at most, as PgBouncer's {@code max_user_connections}; 0 means no
         * limit. A pool held back by it keeps its clients waiting (up to {@code query-wait-timeout}) until another pool
         * of the user closes a backend, by {@code idle-timeout} for one left idle.
         */
        @WithDefault("0")
        int maxUserConnections();

        /**
         * Backends a pool may open beyond its size once a client has waited {@code reserve-timeout}, as PgBouncer's
         * {@code reserve_pool_size}; still within {@code max-db-connections}. They are ordinary members afterwards,
         * closed by {@code idle-timeout} like any other. 0 disables.
         */
        @WithDefault("0")
        int reserveSize();

        /** How long a client waits before its pool may open a reserve backend (PgBouncer's {@code reserve_pool_timeout}); 0 disables. */
        @WithDefault("5s")
        Duration reserveTimeout();

        /** What to do when a client's session state cannot move between backends. */
        @WithDefault("allow")
        Pinning pinning();

        /**
         * LISTEN in transaction mode: {@code fanout} (one listener connection per database receives the notifications
         * and pgferry hands them to the subscribed clients, which stay unpinned), {@code pin} (the client is pinned to
         * its backend, as any session state that cannot move), or {@code reject} (refused with 0A000).
         */
        @WithDefault("fanout")
        ListenMode listen();
    }

    interface Auth {
        /** How clients authenticate to pgferry. */
        @WithDefault("scram-sha-256")
        AuthType type();

        /** PgBouncer {@code userlist.txt}: {@code "user" "secret"} per line. */
        Optional<Path> usersFile();

        /**
         * A pg_hba.conf-format file (PgBouncer's {@code auth_hba_file}) that decides per connection, by connection type
         * (local, host, hostssl, hostnossl), database, user and client address, whether the client is rejected or
         * which method it authenticates with (trust, md5, scram-sha-256, password, cert; {@code clientcert=} on
         * hostssl lines); the first matching line wins and no match rejects. Unset, {@code type} applies to every
         * client. Re-read on RELOAD and SIGHUP. Not with {@code type=passthrough}.
         */
        Optional<Path> hbaFile();

        /**
         * User (listed in the users file) as whom pgferry runs {@code pgferry.auth.query} to fetch the secret
         * of a user not in the file; unset disables auth_query.
         */
        Optional<String> user();

        /** Query returning (user name, secret) for {@code $1}; PgBouncer's default. */
        @WithDefault("SELECT usename, passwd FROM pg_shadow WHERE usename=$1")
        String query();

        /** How long a secret fetched by auth_query is reused before it is fetched again. */
        @WithDefault("60s")
        Duration queryCacheTtl();
    }

    interface Notify {
        /**
         * Notifications held for one client at most (it is inside a transaction, or does not read): past it the client
         * is closed with a FATAL naming this limit, so a client that never reads cannot grow pgferry's memory.
         */
        @WithDefault("10000")
        int maxQueued();

        /**
         * How long a database's listener connection stays open once its last channel is unlistened: a LISTEN within
         * it reuses the connection, so LISTEN/UNLISTEN churn does not reconnect each time; after it the connection is
         * closed, and the next LISTEN opens one again (with the login of that subscriber's pool). 0 closes at once.
         */
        @WithDefault("5s")
        java.time.Duration listenerIdleTimeout();
    }

    interface Prepared {
        /** Server-side prepared statements kept per backend (LRU). */
        @WithDefault("200")
        int maxPerBackend();
    }

    interface Admin {
        /** Users allowed on the admin console. */
        @WithDefault("postgres")
        List<String> users();

        /**
         * How long PAUSE waits for the transactions running in the paused pools to end; past it PAUSE answers an
         * error naming the pools that still hold backends, and the pause stays (PgBouncer waits without limit).
         */
        @WithDefault("60s")
        Duration pauseTimeout();
    }

    interface Health {
        /** Readiness needs a successful backend connection per database at least this recently. */
        @WithDefault("10s")
        Duration backendCheckInterval();

        /** How often each host of a {@code hosts} list is asked its role ({@code pg_is_in_recovery()}). */
        @WithDefault("2s")
        Duration roleCheckInterval();

        /** Database the readiness check connects to on the default backend. */
        @WithDefault("postgres")
        String defaultDatabase();

        /** User of the readiness check connections; the first users-file entry usable for a backend login when absent. */
        Optional<String> checkUser();
    }

    interface Shutdown {
        /** Transactions in flight at shutdown may run this long before their clients are cut. */
        @WithDefault("30s")
        Duration drainTimeout();
    }

    interface DevPostgres {
        /** Start a throwaway local PostgreSQL on {@code pgferry.backend.port} (dev profile). */
        @WithDefault("false")
        boolean enabled();

        /** Where its data directory lives. */
        @WithDefault("target/pgferry-dev-postgres")
        Path directory();

        /** Password of its {@code postgres} superuser. */
        @WithDefault("postgres")
        String password();
    }

    /** Values are written in lower case in configuration: {@code transaction}, {@code scram-sha-256}. */
    enum PoolMode {
        SESSION,
        TRANSACTION
    }

    enum ListenMode {
        FANOUT,
        PIN,
        REJECT
    }

    enum Pinning {
        ALLOW,
        REJECT
    }

    enum AuthType {
        SCRAM_SHA_256,
        MD5,
        PLAIN,
        TRUST,
        PASSTHROUGH,
        /**
         * PgBouncer's {@code auth_type=cert}: a TLS client certificate verified by {@code pgferry.tls.client.ca-file}
         * whose CN is the user, no password.
         */
        CERT
    }
}
