package dev.pgferry.session;

import dev.pgferry.auth.CredentialStore;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.Pools;
import dev.pgferry.auth.hba.HbaFile;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;

/**
 * What every client session shares: configuration, pools, credentials, cancel keys and counters. Its fields are the
 * session layer's own; the layers above read and act through the methods: the admin console (listing clients, DISABLE,
 * RELOAD), the health checks and meters ({@link SessionStats}), the listener (start, drain).
 */
public final class SessionContext implements SessionStats {
    /** The configuration in force: replaced as a whole by RELOAD (a rebuilt mapping), read anew by each use. */
    volatile PgferryConfig config;
    final Pools pools;
    final CredentialStore credentials;
    final CancelRegistry cancels;
    /** Draws the cancel keys of BackendKeyData, stamped with this replica's peer id (pgferry.peer-id). */
    final dev.pgferry.peer.CancelKeys cancelKeys;
    /** Where a CancelRequest goes among the replicas (pgferry.peers); set by the server once peering started. */
    volatile dev.pgferry.peer.PeerCancels peerCancels = dev.pgferry.peer.PeerCancels.NONE;
    /** This replica's shares of pgferry.pool.cluster-max-db-connections; null until the server started. */
    private volatile dev.pgferry.peer.ClusterBudget clusterBudget;
    final SecureRandom random;
    /** Forwards a CancelRequest to a backend, then runs the callback ({@link dev.pgferry.backend.CancelForwarder}). */
    final BiConsumer<ServerConnection, Runnable> canceller;
    final AtomicInteger clients = new AtomicInteger();
    final LongAdder loginFailures = new LongAdder();
    /** Logins ended by the login timeout, refused by the server (pool/startup errors), or by a connection limit. */
    final LongAdder loginTimeouts = new LongAdder();
    final LongAdder loginServerRefusals = new LongAdder();
    final LongAdder loginLimitRefusals = new LongAdder();
    /** One log line per refused login, rate-limited per client address. */
    final RefusedLogins refusedLogins = new RefusedLogins();
    /** Receives the duration of each completed login in nanoseconds (a histogram, set by the metrics). */
    volatile LongConsumer loginTimeRecorder = nanos -> {};
    /** Logins in progress per client address, when pgferry.client-max-logins-per-address is set. */
    final ConcurrentHashMap<java.net.InetAddress, AtomicInteger> loginsInProgress = new ConcurrentHashMap<>();
    final LongAdder protocolErrors = new LongAdder();
    /** The generation of shared prepared statements a new Parse joins: moved on by schema changes. */
    final SchemaEpoch schemaEpoch = new SchemaEpoch();
    final LongAdder pinnedSessions = new LongAdder();
    /** The LISTEN/NOTIFY fan-out: one listener connection per database. */
    final dev.pgferry.notify.NotifyHub notify =
            new dev.pgferry.notify.NotifyHub(() -> config.notifications().listenerIdleTimeout().toMillis());

    @Override
    public dev.pgferry.notify.NotifyHub notifications() {
        return notify;
    }
    final LongAdder logins = new LongAdder();
    /** Sessions alive now, for SHOW CLIENTS and draining. */
    final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    /**
     * Logins authenticated and waiting for their pool (its first backend, to learn the server's parameters, or one
     * to check startup parameters): SHOW CLIENTS lists them 'waiting', as PgBouncer its CL_WAITING_LOGIN clients.
     */
    final Set<LoginHandler> waitingLogins = ConcurrentHashMap.newKeySet();
    volatile boolean draining;
    /** Databases the admin console's DISABLE closed to new logins (PgBouncer's db_disabled); ENABLE reopens them. */
    final Set<String> disabledDatabases = ConcurrentHashMap.newKeySet();
    /** auth_query, when pgferry.auth.user is set; else null. */
    final AuthQuery authQuery;
    /** pgferry.auth.hba-file, deciding each login's method; null when unset ({@code auth.type} for all). */
    volatile HbaFile hba;
    /** TLS towards clients; null when disabled. */
    volatile SslContext clientTls;
    /** Virtual databases by name (the admin console), plugged in by the listener at start. */
    final Map<String, VirtualDatabase> virtualDatabases = new ConcurrentHashMap<>();
    /** What the sessions of each pool know about its server's parameters; pools live as long as the process. */
    private final Map<dev.pgferry.pool.PoolKey, PoolParameters> poolParameters = new ConcurrentHashMap<>();
    /** Client-idle and idle-transaction sweeps per event loop; empty when both timeouts are 0. */
    private final Map<EventLoop, IdleSweep> idleSweeps = new ConcurrentHashMap<>();

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

    /** The parameter cache of the pool of {@code key}; the pool is given it when created, to learn from its backends. */
    public PoolParameters poolParameters(dev.pgferry.pool.PoolKey key) {
        return poolParameters.computeIfAbsent(key, k -> new PoolParameters());
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
    public void startIdleSweeps(List<EventLoop> loops) {
        IdleLimits limits = IdleLimits.of(config.clientIdleTimeout(), config.pool().idleTransactionTimeout());
        if (limits != null) {
            for (EventLoop loop : loops) {
                idleSweeps.put(loop, new IdleSweep(loop, limits));
            }
        }
    }

    public void stopIdleSweeps() {
        idleSweeps.values().forEach(IdleSweep::stop);
    }

    /** The sweep of {@code loop}, or null when no idle limit is set. */
    IdleSweep idleSweep(EventLoop loop) {
        return idleSweeps.get(loop);
    }

    /** The configuration in force. */
    /** Peering started: cancels of other replicas' keys go to them, and pools take this replica's budget share. */
    public void usePeering(dev.pgferry.peer.PeerCancels cancels, dev.pgferry.peer.ClusterBudget budget) {
        this.peerCancels = cancels;
        this.clusterBudget = budget;
    }

    /** This replica's shares of the cluster backend budget; null when none is configured or before start. */
    public dev.pgferry.peer.ClusterBudget clusterBudget() {
        return clusterBudget;
    }

    public PgferryConfig config() {
        return config;
    }

    /** Puts a rebuilt configuration in force (RELOAD); sessions read it anew at each use. */
    public void replaceConfig(PgferryConfig config) {
        this.config = config;
    }

    @Override
    public Pools pools() {
        return pools;
    }

    public CredentialStore credentials() {
        return credentials;
    }

    /** pgferry.auth.hba-file, reloaded in place by RELOAD; null when unset. */
    public HbaFile hba() {
        return hba;
    }

    /** Set once by the listener at start, before the port is bound. */
    public void hba(HbaFile hba) {
        this.hba = hba;
    }

    /** TLS towards clients, null when disabled; set once by the listener at start, before the port is bound. */
    public void clientTls(SslContext clientTls) {
        this.clientTls = clientTls;
    }

    /** Makes {@code database} answered by pgferry itself; set by the listener at start, before the port is bound. */
    public void addVirtualDatabase(VirtualDatabase database) {
        virtualDatabases.put(database.name(), database);
    }

    /** DISABLE: new logins to {@code database} are refused; logged-in clients keep working. */
    public void disable(String database) {
        disabledDatabases.add(database);
    }

    /** ENABLE: undoes {@link #disable}. */
    public void enable(String database) {
        disabledDatabases.remove(database);
    }

    public boolean disabled(String database) {
        return disabledDatabases.contains(database);
    }

    /** The databases DISABLE closed, a copy. */
    public Set<String> disabledDatabases() {
        return Set.copyOf(disabledDatabases);
    }

    @Override
    public List<ClientControl> loggedInClients() {
        List<ClientControl> out = new ArrayList<>(sessions.size());
        sessions.forEach(s -> out.add(ClientControls.of(s)));
        return out;
    }

    /** Logins authenticated and waiting for their pool, those not yet knowing it (pool null) included. */
    public List<ClientControl> waitingLogins() {
        List<ClientControl> out = new ArrayList<>(waitingLogins.size());
        waitingLogins.forEach(l -> out.add(ClientControls.of(l)));
        return out;
    }

    /** Shutdown began: new logins are refused from now on. */
    public void startDraining() {
        draining = true;
    }

    /** One step of a graceful shutdown for every session: those between transactions are closed with 57P01. */
    public void drainStep() {
        sessions.forEach(ClientSession::drainStep);
    }

    /** Whether any session is still open. */
    public boolean anySession() {
        return !sessions.isEmpty();
    }

    /** Ends every session with a FATAL error (the drain timeout passed). */
    public void terminateAll(String sqlState, String message) {
        sessions.forEach(s -> s.terminate(sqlState, message));
    }

    @Override
    public boolean draining() {
        return draining;
    }

    @Override
    public int clientConnections() {
        return clients.get();
    }

    @Override
    public long logins() {
        return logins.sum();
    }

    @Override
    public long loginFailures() {
        return loginFailures.sum();
    }

    @Override
    public long loginTimeouts() {
        return loginTimeouts.sum();
    }

    @Override
    public long loginServerRefusals() {
        return loginServerRefusals.sum();
    }

    @Override
    public long loginLimitRefusals() {
        return loginLimitRefusals.sum();
    }

    @Override
    public long protocolErrors() {
        return protocolErrors.sum();
    }

    @Override
    public long pinnedSessions() {
        return pinnedSessions.sum();
    }

    @Override
    public void onLoginTime(LongConsumer recorder) {
        loginTimeRecorder = recorder;
    }
}
