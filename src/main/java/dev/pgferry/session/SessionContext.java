package dev.pgferry.session;

import dev.pgferry.auth.CredentialStore;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.Pools;
import java.security.SecureRandom;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/** What every client session shares: configuration, pools, credentials, cancel keys and counters. */
public final class SessionContext {
    /** The configuration in force: replaced as a whole by RELOAD (a rebuilt mapping), read anew by each use. */
    public volatile PgferryConfig config;
    public final Pools pools;
    public final CredentialStore credentials;
    public final CancelRegistry cancels;
    /** Draws the cancel keys of BackendKeyData, stamped with this replica's peer id (pgferry.peer-id). */
    public final dev.pgferry.peer.CancelKeys cancelKeys;
    /** Where a CancelRequest goes among the replicas (pgferry.peers); set by the server once peering started. */
    public volatile dev.pgferry.peer.PeerCancels peerCancels = dev.pgferry.peer.PeerCancels.NONE;
    /** This replica's shares of pgferry.pool.cluster-max-db-connections; null until the server started. */
    public volatile dev.pgferry.peer.ClusterBudget clusterBudget;
    public final SecureRandom random;
    /** Forwards a CancelRequest to a backend, then runs the callback ({@link dev.pgferry.backend.CancelForwarder}). */
    public final BiConsumer<ServerConnection, Runnable> canceller;
    public final AtomicInteger clients = new AtomicInteger();
    public final LongAdder loginFailures = new LongAdder();
    /** Logins ended by the login timeout, refused by the server (pool/startup errors), or by a connection limit. */
    public final LongAdder loginTimeouts = new LongAdder();
    public final LongAdder loginServerRefusals = new LongAdder();
    public final LongAdder loginLimitRefusals = new LongAdder();
    /** One log line per refused login, rate-limited per client address. */
    final RefusedLogins refusedLogins = new RefusedLogins();
    /** Receives the duration of each completed login in nanoseconds (a histogram, set by the metrics). */
    public volatile java.util.function.LongConsumer loginTimeRecorder = nanos -> {};
    /** Logins in progress per client address, when pgferry.client-max-logins-per-address is set. */
    final ConcurrentHashMap<java.net.InetAddress, AtomicInteger> loginsInProgress = new ConcurrentHashMap<>();
    public final LongAdder protocolErrors = new LongAdder();
    /** The generation of shared prepared statements a new Parse joins: moved on by schema changes. */
    final SchemaEpoch schemaEpoch = new SchemaEpoch();
    public final LongAdder pinnedSessions = new LongAdder();
    public final LongAdder logins = new LongAdder();
    /** Sessions alive now, for SHOW CLIENTS and draining. */
    public final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    /**
     * Logins authenticated and waiting for their pool (its first backend, to learn the server's parameters, or one
     * to check startup parameters): SHOW CLIENTS lists them 'waiting', as PgBouncer its CL_WAITING_LOGIN clients.
     */
    public final Set<LoginHandler> waitingLogins = ConcurrentHashMap.newKeySet();
    public volatile boolean draining;
    /** Databases the admin console's DISABLE closed to new logins (PgBouncer's db_disabled); ENABLE reopens them. */
    public final Set<String> disabledDatabases = ConcurrentHashMap.newKeySet();
    /** auth_query, when pgferry.auth.user is set; else null. */
    final AuthQuery authQuery;
    /** pgferry.auth.hba-file, deciding each login's method; null when unset ({@code auth.type} for all). */
    public volatile dev.pgferry.auth.hba.HbaFile hba;
    /** TLS towards clients; null when disabled. */
    public volatile io.netty.handler.ssl.SslContext clientTls;
    /** Virtual databases by name (the admin console), registered by the server at start. */
    public final java.util.Map<String, VirtualDatabase> virtualDatabases = new ConcurrentHashMap<>();
    /** Client-idle and idle-transaction sweeps per event loop; empty when both timeouts are 0. */
    private final java.util.Map<io.netty.channel.EventLoop, IdleSweep> idleSweeps = new ConcurrentHashMap<>();

    public SessionContext(PgferryConfig config, Pools pools, CredentialStore credentials, SecureRandom random,
            BiConsumer<ServerConnection, Runnable> canceller) {
        this.config = config;
        this.pools = pools;
        this.credentials = credentials;
        this.random = random;
        this.cancelKeys = new dev.pgferry.peer.CancelKeys(random,
                dev.pgferry.peer.PeerIdentity.of(config, dev.pgferry.peer.PeerIdentity::hostname));
        this.cancels = new CancelRegistry(cancelKeys);
        this.canceller = canceller;
        this.authQuery = config.auth().user()
                .map(u -> new AuthQuery(this, u, config.auth().query(), config.auth().queryCacheTtl())).orElse(null);
    }

    /**
     * Whether a login to {@code database} gets a pool: a {@code pgferry.databases} entry, or any name while the default
     * backend serves unlisted ones (PgBouncer's {@code *} entry). The console's virtual database is not a pool's.
     */
    public boolean servesDatabase(String database) {
        return config.backend().serveUnlisted() || config.databases().containsKey(database);
    }

    /**
     * Starts the sweep of pgferry.client-idle-timeout and pgferry.pool.idle-transaction-timeout on each serving loop;
     * nothing when both are 0.
     */
    public void startIdleSweeps(java.util.List<io.netty.channel.EventLoop> loops) {
        IdleLimits limits = IdleLimits.of(config.clientIdleTimeout(), config.pool().idleTransactionTimeout());
        if (limits != null) {
            for (io.netty.channel.EventLoop loop : loops) {
                idleSweeps.put(loop, new IdleSweep(loop, limits));
            }
        }
    }

    public void stopIdleSweeps() {
        idleSweeps.values().forEach(IdleSweep::stop);
    }

    /** The sweep of {@code loop}, or null when no idle limit is set. */
    IdleSweep idleSweep(io.netty.channel.EventLoop loop) {
        return idleSweeps.get(loop);
    }
}
