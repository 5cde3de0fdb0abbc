package dev.pgferry.server;

import dev.pgferry.auth.CredentialStore;
import dev.pgferry.auth.FileCredentialStore;
import dev.pgferry.auth.StoredCredential;
import dev.pgferry.auth.UserSecret;
import dev.pgferry.auth.hba.HbaException;
import dev.pgferry.auth.hba.HbaFile;
import dev.pgferry.backend.BackendChannels;
import dev.pgferry.backend.BackendConnector;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.BackendTarget;
import dev.pgferry.backend.CancelForwarder;
import dev.pgferry.backend.CheckCredentials;
import dev.pgferry.config.EffectivePoolConfig;
import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.BackendLimit;
import dev.pgferry.pool.ForcedUserCredentials;
import dev.pgferry.pool.HostRoles;
import dev.pgferry.pool.HostRoster;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.pool.PoolPlan;
import dev.pgferry.pool.Pools;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.LoginHandler;
import dev.pgferry.session.ProxyStatus;
import dev.pgferry.session.SessionContext;
import dev.pgferry.session.VirtualDatabase;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.unix.DomainSocketAddress;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.ArrayList;
import org.jboss.logging.Logger;

/**
 * The PostgreSQL listener: a Netty server bound on Vert.x's own event loops (the acceptor group accepts,
 * the event-loop group serves), so each client and the backends it leases share one loop; on TCP, and on a
 * Unix-domain socket too with {@code pgferry.unix-socket-dir}. Starts on {@link StartupEvent}; on
 * {@link ShutdownEvent} it refuses logins with 57P03 (cancels still go through), closes idle clients with 57P01 and
 * lets transactions in flight finish up to the drain timeout, then closes the listeners. Virtual databases (the admin console) plug in through CDI ({@link VirtualDatabase.Plugin});
 * health checks and meters read it as a {@link ProxyStatus}.
 */
@ApplicationScoped
public class ProxyServer implements ProxyStatus {
    private static final Logger LOG = Logger.getLogger(ProxyServer.class);
    /**
     * One read-size policy for every client channel: Netty otherwise gives each channel its own allocator object
     * (40 bytes per idle client); the per-channel sizing state lives in the handle each channel makes from it.
     */
    private static final RecvByteBufAllocator CLIENT_READS = new AdaptiveRecvByteBufAllocator();

    @Inject
    Vertx vertx;

    @Inject
    PgferryConfig config;

    @Inject
    Instance<VirtualDatabase.Plugin> virtualDatabases;

    private Channel serverChannel;
    /** The Unix-domain socket's server channel and file; null without {@code pgferry.unix-socket-dir}. */
    private Channel unixChannel;
    private Path unixSocket;
    private SessionContext context;
    /** Cancels among replicas and the cluster budget (pgferry.peer-id, peers, cluster-max-db-connections). */
    private dev.pgferry.peer.Peering peering;
    private Pools pools;
    /** The role checks of the servers of every {@code hosts} list; null before {@link #start()}. */
    private HostRoles hostRoles;
    private BackendConnector connector;
    private CredentialStore credentials;
    private volatile boolean listening;
    private final java.util.concurrent.ConcurrentHashMap<String, BackendLimit> databaseLimits =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentHashMap<String, BackendLimit> userLimits =
            new java.util.concurrent.ConcurrentHashMap<>();

    void onStart(@Observes @Priority(100) StartupEvent event) throws Exception {
        start();
    }

    void onStop(@Observes ShutdownEvent event) {
        stop();
    }

    public synchronized void start() throws Exception {
        VertxInternal vx = (VertxInternal) vertx;
        int wanted = config.eventLoops() > 0 ? config.eventLoops()
                : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        LoopSubset group = new LoopSubset(vx.getEventLoopGroup(), wanted);
        List<EventLoop> loops = group.loops();
        Path socket = config.unixSocketDir().map(dir -> UnixSocketFile.path(dir, config.listenPort())).orElse(null);
        Set<PosixFilePermission> socketMode = UnixSocketFile.permissions(config.unixSocketMode());
        if (socket != null && !vx.transport().supportsDomainSockets()) {
            throw new IllegalStateException("pgferry.unix-socket-dir is set, but the " + (vertx.isNativeTransportEnabled()
                    ? "native" : "nio") + " transport in use has no Unix-domain sockets: they need the native transport"
                    + " (epoll on Linux, quarkus.vertx.prefer-native-transport=true)");
        }
        credentials = loadCredentials();
        EffectivePoolConfig effective = new EffectivePoolConfig(config);
        config.databases().keySet().forEach(effective::hosts); // an empty or malformed host list stops the start
        config.databases().keySet().forEach(db -> effective.forcedUser(db).ifPresent(u -> ForcedUserCredentials.of(effective,
                credentials, db)));
        BackendChannels backendChannels = BackendChannels.of(vx.transport());
        connector = BackendConnector.of(backendChannels, config);
        hostRoles = startRoleChecks(effective, loops);
        pools = new Pools(key -> newPool(key, connector, loops), hostRoles);
        context = new SessionContext(config, pools, credentials, new SecureRandom(), new CancelForwarder(backendChannels));
        ClientTls.checkCertAuth(config);
        context.clientTls(ClientTls.context(config.tls().client()));
        context.hba(loadHba());
        context.startIdleSweeps(loops);
        SessionContext sc = context;
        peering = dev.pgferry.peer.Peering.start(config, sc::config, vx.transport().channelFactory(false), pools);
        context.usePeering(peering.cancels, peering.budget);
        for (VirtualDatabase.Plugin plugin : virtualDatabases) {
            sc.addVirtualDatabase(plugin.start(sc));
        }
        ChannelHandler login = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("login", new LoginHandler(sc));
            }
        };
        ServerBootstrap b = listener(vx, group, login, false)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true);
        io.netty.channel.ChannelFuture bound = b.bind(config.listenHost(), config.listenPort()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw listenFailed(ListenException.tcp(config.listenHost(), config.listenPort(), bound.cause()));
        }
        serverChannel = bound.channel();
        if (socket != null) {
            try {
                unixChannel = bindUnix(vx, group, login, socket, socketMode);
                unixSocket = socket;
            } catch (Exception e) {
                serverChannel.close().awaitUninterruptibly();
                serverChannel = null;
                throw listenFailed(ListenException.unix(socket, e));
            }
        }
        listening = true;
        LOG.infof("pgferry listening on %s:%d%s (%s transport, %d event loops, default backend %s, %s pooling)",
                config.listenHost(), config.listenPort(), socket == null ? "" : " and " + socket,
                vertx.isNativeTransportEnabled() ? "epoll" : "nio", loops.size(),
                new BackendTarget(config.backend().host(), config.backend().port(), "").address(), config.pool().mode());
    }

    /**
     * Logged here, where it happens, so that every way of running pgferry (the jar, dev mode, a test) shows the one
     * line; {@code PgferryMain} then exits non-zero without printing it again.
     */
    private ListenException listenFailed(ListenException e) {
        context.stopIdleSweeps();
        hostRoles.stop();
        peering.close();
        LOG.error(e.getMessage());
        return e;
    }

    /** What both listeners share: Vert.x's acceptor and the serving loops, the backlog, the read sizing, the login. */
    private static ServerBootstrap listener(VertxInternal vx, EventLoopGroup group, ChannelHandler login,
            boolean domainSocket) {
        return new ServerBootstrap()
                .group(vx.getAcceptorEventLoopGroup(), group)
                .channelFactory(vx.transport().serverChannelFactory(domainSocket))
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, CLIENT_READS)
                .childHandler(login);
    }

    /**
     * The Unix-domain listener: the same loops and login handler as TCP, none of TCP's options. The mode is set once
     * bound, as PostgreSQL does (bind creates the file).
     */
    private static Channel bindUnix(VertxInternal vx, EventLoopGroup group, ChannelHandler login, Path socket,
            Set<PosixFilePermission> mode) throws Exception {
        UnixSocketFile.clearStale(socket);
        Channel ch = listener(vx, group, login, true).bind(new DomainSocketAddress(socket.toString())).sync().channel();
        try {
            Files.setPosixFilePermissions(socket, mode);
        } catch (IOException | RuntimeException e) {
            ch.close().awaitUninterruptibly();
            throw e;
        }
        return ch;
    }

    private CredentialStore loadCredentials() throws IOException {
        Optional<java.nio.file.Path> file = config.auth().usersFile();
        if (file.isPresent()) {
            return new FileCredentialStore(file.get());
        }
        if (config.auth().type() != PgferryConfig.AuthType.TRUST && config.auth().type() != PgferryConfig.AuthType.CERT) {
            LOG.warn("pgferry.auth.users-file is not set: no client can log in except with pgferry.auth.type=trust"
                    + " or cert");
        }
        return user -> Optional.empty();
    }

    private HbaFile loadHba() throws HbaException {
        Optional<Path> file = config.auth().hbaFile();
        if (file.isEmpty()) {
            return null;
        }
        if (config.auth().type() == PgferryConfig.AuthType.PASSTHROUGH) {
            // the server authenticates a passthrough client: there is no method of pgferry's for a line to choose
            throw new IllegalStateException("pgferry.auth.hba-file cannot be combined with pgferry.auth.type=passthrough");
        }
        HbaFile hba = new HbaFile(file.get());
        LOG.infof("pgferry.auth.hba-file %s: %d lines", file.get(), hba.rules().rules().size());
        if (config.tls().client().caFile().isEmpty() && hba.rules().rules().stream()
                .anyMatch(r -> r.clientCert() != dev.pgferry.auth.hba.HbaRule.ClientCert.OFF)) {
            // PostgreSQL loads such a file too, and refuses each login on those lines (FATAL F0000)
            LOG.warnf("pgferry.auth.hba-file %s has cert or clientcert lines but pgferry.tls.client.ca-file is not set:"
                    + " their logins will be refused", file.get());
        }
        return hba;
    }

    private Pool newPool(PoolKey key, BackendConnector connector, List<EventLoop> loops) {
        PgferryConfig live = context != null ? context.config() : config; // RELOAD replaces the context's
        EffectivePoolConfig e = new EffectivePoolConfig(live);
        PoolPlan plan = PoolPlan.of(live, key);
        // a forced user (PgBouncer's user= of [databases]) is who the server sees, and whose limit counts
        BackendLimit databaseLimit = databaseLimits.computeIfAbsent(key.database(),
                d -> new BackendLimit(plan.maxDbConnections()));
        BackendLimit userLimit = userLimits.computeIfAbsent(PoolPlan.serverUser(e, key),
                u -> new BackendLimit(plan.maxUserConnections()));
        BackendCredentials credentials = e.forcedUser(key.database()).isPresent()
                ? ForcedUserCredentials.of(e, this.credentials, key.database()) : backendCredentials(key.user());
        return new Pool(key, plan.target(), plan.settings(), connector, credentials, loops, databaseLimit, userLimit,
                context.poolParameters(key), roster(e, key.database()));
    }

    /**
     * Starts asking the role of every server of a {@code hosts} list now, not at the first client, so that readiness
     * and the first lease know it; as the readiness check, the check connections log in as CheckCredentials says.
     */
    private HostRoles startRoleChecks(EffectivePoolConfig effective, List<EventLoop> loops) {
        HostRoles roles = new HostRoles(connector, () -> {
            try {
                return CheckCredentials.resolve(context != null ? context.config() : config);
            } catch (IOException e) {
                return new BackendCredentials.Ping("postgres"); // the check reports it cannot log in
            }
        }, config.health().defaultDatabase(), config.health().roleCheckInterval(), loops);
        config.databases().keySet().forEach(db -> roster(roles, effective, db));
        return roles;
    }

    /** The roster of {@code database} when it has a host list; null keeps the one-server path. */
    private HostRoster roster(EffectivePoolConfig e, String database) {
        return roster(hostRoles, e, database);
    }

    private static HostRoster roster(HostRoles roles, EffectivePoolConfig e, String database) {
        if (!e.hasHostList(database)) {
            return null;
        }
        return roles.roster(database, e.hosts(database), e.targetRole(database), e.maxReplicaLag(database));
    }

    private BackendCredentials backendCredentials(String user) {
        if (config.auth().type() == PgferryConfig.AuthType.PASSTHROUGH) {
            return new BackendCredentials.Relay(user, null); // backends come only from client logins
        }
        Optional<UserSecret> secret = credentials.lookup(user).map(StoredCredential::secret);
        if (secret.isPresent() && secret.get() instanceof UserSecret.Plain plain) {
            return new BackendCredentials.Password(user, plain.password());
        }
        if (secret.isPresent() && secret.get() instanceof UserSecret.Md5 md5) {
            return new BackendCredentials.Md5Hash(user, md5.hash());
        }
        return new BackendCredentials.None(user);
    }

    public synchronized void stop() {
        if (serverChannel == null) {
            return;
        }
        listening = false;
        // the listeners stay open through the drain, as PostgreSQL's postmaster during its shutdown: a login gets 57P03,
        // and a CancelRequest (a client's own, or one a peer forwards here) still reaches a query in flight
        context.startDraining();
        long deadline = System.nanoTime() + config.shutdown().drainTimeout().toNanos();
        while (System.nanoTime() < deadline && context.anySession()) {
            context.drainStep();
            try {
                TimeUnit.MILLISECONDS.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        serverChannel.close().awaitUninterruptibly();
        if (unixChannel != null) {
            unixChannel.close().awaitUninterruptibly();
            deleteSocketFile();
            unixChannel = null;
        }
        context.terminateAll(SqlState.ADMIN_SHUTDOWN, "terminating connection due to administrator command");
        closeBackends();
        context.notifications().stop();
        context.stopIdleSweeps();
        peering.close();
        hostRoles.stop();
        serverChannel = null;
        LOG.info("pgferry stopped");
    }

    /**
     * Closes every pool's backends, as PgBouncer does on shutdown, rather than leaving them to the event loops' end
     * (which may time out) or to the server noticing a vanished process: KILL each pool (idle ones now, the ones the
     * terminated sessions give back as they come, the ones still logging in when ready), then wait a little for it.
     */
    private void closeBackends() {
        List<CompletableFuture<Void>> closed = new ArrayList<>();
        for (Pool p : context.pools().all()) {
            closed.add(p.control().kill());
        }
        try {
            CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new)).get(2, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.warnf("pgferry stopped with backends still closing: %s", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Netty's epoll channel deletes its file on close already; stop() does not rely on a transport's habit. */
    private void deleteSocketFile() {
        try {
            Files.deleteIfExists(unixSocket);
        } catch (IOException e) {
            LOG.warnf("cannot delete the socket file %s: %s", unixSocket, e.toString());
        }
    }

    @Override
    public boolean listening() {
        return listening;
    }

    @Override
    public SessionContext context() {
        return context;
    }

    /** Opens the pools' backends; null before {@link #start()}. */
    @Override
    public BackendConnector connector() {
        return connector;
    }

    public Pools pools() {
        return pools;
    }

    /** The role checks of the servers of every {@code hosts} list; null before {@link #start()}. */
    @Override
    public HostRoles hostRoles() {
        return hostRoles;
    }

    /** Peering and the cluster budget; null before {@link #start()}. */
    public dev.pgferry.peer.Peering peering() {
        return peering;
    }

    public CredentialStore credentials() {
        return credentials;
    }
}
