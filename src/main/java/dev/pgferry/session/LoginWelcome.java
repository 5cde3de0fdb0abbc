package dev.pgferry.session;

import dev.pgferry.auth.ScramKeys;
import dev.pgferry.auth.StoredCredential;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.LeaseWaiter;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolException;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.protocol.StartupPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * The last step of a login, after authentication: the startup parameters checked by the server, then
 * ParameterStatus for every parameter, BackendKeyData and ReadyForQuery, and the hand-over of the connection
 * to a {@link ClientSession} (or to a virtual database's handler) with whatever the client already sent.
 */
final class LoginWelcome {
    private static final Logger LOG = Logger.getLogger(LoginHandler.class);

    private final LoginHandler login;
    private final SessionContext sc;
    private final ChannelHandlerContext ctx;
    private final String id;
    private final StartupPacket.StartupMessage startup;
    private final Pool pool;
    private Map<String, String> startupParams;

    LoginWelcome(LoginHandler login, SessionContext sc, ChannelHandlerContext ctx, StartupPacket.StartupMessage startup,
            Pool pool, Map<String, String> startupParams) {
        this.login = login;
        this.sc = sc;
        this.ctx = ctx;
        this.id = login.id();
        this.startup = startup;
        this.pool = pool;
        this.startupParams = startupParams;
    }

    /**
     * The welcome of an authenticated client: to a virtual database's handler, or, for a database served (and not
     * disabled meanwhile), AuthenticationOk and {@link #prepareWelcome}; otherwise refused, as PgBouncer's
     * finish_client_login refuses it only now, so that a login does not learn which databases exist.
     */
    static void begin(LoginHandler login, SessionContext sc, ChannelHandlerContext ctx,
            StartupPacket.StartupMessage startup, Pool pool, VirtualDatabase virtual, Map<String, String> startupParams,
            ClientAuthExchange exchange) {
        if (virtual != null) {
            welcomeVirtual(login, sc, ctx, virtual, startup.user());
            return;
        }
        if (pool == null) {
            sc.loginLimitRefusals.increment();
            login.fatal(SqlState.PROTOCOL_VIOLATION, "no such database: " + startup.database());
            return;
        }
        if (sc.disabledDatabases.contains(startup.database())) {
            // disabled while this client authenticated: PgBouncer's finish_client_login refuses it so
            sc.loginLimitRefusals.increment();
            login.fatal(SqlState.PROTOCOL_VIOLATION, "database \"" + startup.database() + "\" is disabled");
            return;
        }
        LoginWelcome welcome = new LoginWelcome(login, sc, ctx, startup, pool, startupParams);
        if (exchange != null) {
            welcome.learnBackendCredentials(exchange);
        }
        ByteBuf ok = ctx.alloc().buffer(9);
        ServerMessages.authentication(ok, ProtocolCodes.AUTH_OK);
        ctx.write(ok);
        welcome.prepareWelcome();
    }

    /** Whatever this login proved that lets pgferry open backends for the user without a plaintext secret. */
    void learnBackendCredentials(ClientAuthExchange auth) {
        if (pool.credentials() instanceof BackendCredentials.Password) {
            return;
        }
        byte[] clientKey = auth.recoveredClientKey();
        String user = startup.user();
        if (auth.clientPassword() != null) {
            pool.credentials(new BackendCredentials.Password(user, auth.clientPassword()));
        } else if (pool.credentials() instanceof BackendCredentials.None && auth.credential().isPresent()
                && auth.credential().get().secret() instanceof dev.pgferry.auth.UserSecret.Md5 md5) {
            pool.credentials(new BackendCredentials.Md5Hash(user, md5.hash()));
        } else if (clientKey != null && pool.credentials() instanceof BackendCredentials.None) {
            auth.credential().flatMap(StoredCredential::scramKeys).map(ScramKeys::serverKey).ifPresent(
                    serverKey -> pool.credentials(new BackendCredentials.ScramKeys(user, clientKey, serverKey)));
        }
    }

    /**
     * The client's startup parameters are checked by the server, as PostgreSQL does at login (an invalid
     * value ends the login with the server's FATAL error), and reported ones take the server's spelling.
     * Each (name, value) is checked once per pool; the first client of a pool also teaches it the server's
     * parameters (and proves that the database exists and the credentials work).
     */
    void prepareWelcome() {
        boolean keeps = keepsBackend();
        PoolParameters known = sc.poolParameters(pool.key());
        if (!keeps && known.known() && known.startupChecked(startupParams)) {
            startupParams = known.normalizedStartup(startupParams);
            welcome(null);
            return;
        }
        ctx.channel().config().setAutoRead(false);
        sc.waitingLogins.add(login);
        if (keeps) {
            // waits for the pool as a query does (pgferry.pool.query-wait-timeout, then an error), not as a login
            login.stopLoginTimer();
        }
        LeaseWaiter waiter = new LeaseWaiter() {
            @Override
            public void onLease(ServerConnection conn) {
                if (!login.onboarding() || !ctx.channel().isActive()) {
                    pool.release(conn);
                    return;
                }
                if (known.startupChecked(startupParams)) {
                    if (!keeps) {
                        pool.release(conn);
                    }
                    startupParams = known.normalizedStartup(startupParams);
                    ctx.channel().config().setAutoRead(true);
                    welcome(keeps ? conn : null);
                    return;
                }
                checkStartup(conn);
            }

            @Override
            public void onLeaseFailed(PoolException error) {
                LOG.debugf("%s no server connection: %s", id, error.getMessage());
                sc.loginServerRefusals.increment();
                login.fatal(error.sqlState(), error.getMessage());
            }
        };
        if (keeps) {
            CheckedLease.acquire(pool, ctx.channel().eventLoop(), sc.config.pool().checkDelay().toNanos(), waiter);
        } else {
            pool.acquire(ctx.channel().eventLoop(), waiter);
        }
    }

    /**
     * Session mode: the client keeps one backend from its login to its end, leased before its ReadyForQuery, so that
     * its BackendKeyData carries that backend's real process id (with pgferry's own secret, so that a cancel still
     * comes through pgferry).
     */
    private boolean keepsBackend() {
        return pool.settings().mode() == dev.pgferry.config.PgferryConfig.PoolMode.SESSION;
    }

    private void checkStartup(ServerConnection conn) {
        PoolParameters known = sc.poolParameters(pool.key());
        Map<String, String> defaults = known.serverParams();
        Map<String, String> canonical = new SessionParameters(defaults, startupParams).startup();
        // RESET ALL first: values are normalised against a fresh session (DateStyle=ISO keeps the order it finds)
        String prefix = "RESET ALL;SELECT ";
        StringBuilder sql = new StringBuilder(prefix);
        canonical.forEach((k, v) -> sql.append(sql.length() > prefix.length() ? "," : "").append("pg_catalog.set_config(")
                .append(SessionParameters.literal(k)).append(',').append(SessionParameters.literal(v)).append(",false)"));
        InternalQuery.run(conn, sql.toString(), (cc, r) -> {
            boolean clean = !r.closed && r.status == 'I';
            if (r.ok() && clean) {
                cc.unreported.clear();
                Map<String, String> normalized = new LinkedHashMap<>();
                canonical.forEach((k, v) -> {
                    String reported = defaults.containsKey(k) ? cc.reported.get(k) : null;
                    if (reported == null) {
                        cc.unreported.put(k, v);
                    }
                    String value = reported != null ? reported : v;
                    normalized.put(k, value);
                    known.startupChecked(k, v, value);
                });
                startupParams = normalized;
            }
            boolean onboarding = login.onboarding() && ctx.channel().isActive();
            boolean keep = onboarding && clean && r.ok() && keepsBackend();
            if (keep) {
                cc.touch();
            } else if (clean) {
                pool.release(cc);
            } else {
                pool.discard(cc);
            }
            if (!onboarding) {
                return;
            }
            if (!r.ok()) {
                Map<Character, String> e = r.error == null ? Map.of() : r.error;
                LOG.debugf("%s startup parameters refused: %s", id, e.get('M'));
                sc.loginServerRefusals.increment();
                login.fatal(e.getOrDefault('C', SqlState.CONNECTION_FAILURE),
                        e.getOrDefault('M', "server connection lost while checking startup parameters"));
                return;
            }
            ctx.channel().config().setAutoRead(true);
            welcome(keep ? cc : null);
        });
    }

    /**
     * ParameterStatus for every parameter, BackendKeyData, ReadyForQuery 'I'; then the session takes over, in session
     * mode with {@code kept}, the backend it keeps (else null).
     */
    private void welcome(ServerConnection kept) {
        if (!login.onboarding()) {
            if (kept != null) {
                pool.release(kept);
            }
            return;
        }
        login.ended();
        PoolParameters known = sc.poolParameters(pool.key());
        SessionParameters params = new SessionParameters(known.serverParams(), startupParams, known.signatures());
        ByteBuf out = ctx.alloc().buffer(512);
        for (String name : known.serverParams().keySet()) {
            ServerMessages.parameterStatus(out, name, params.reportedValue(name));
        }
        byte[] key = sc.cancelKeys.issue(startup.minorVersion() >= 2 ? 32 : 4);
        ClientSession session = new ClientSession(sc, pool, startup.user(), params, id, key, login.connectedMillis(),
                kept == null ? 0 : kept.processId());
        ServerMessages.backendKeyData(out, session.processId(), key);
        ServerMessages.readyForQuery(out, (byte) 'I');
        ctx.writeAndFlush(out);
        sc.logins.increment();
        sc.loginTimeRecorder.accept(System.nanoTime() - login.startNanos());
        LOG.debugf("%s ready (pool %s, %s mode)", id, pool.key(), pool.settings().mode());
        ByteBuf rest = login.takeRest();
        ctx.pipeline().replace(login, "session", session);
        if (kept != null) {
            session.begin(kept);
        }
        if (rest != null && rest.isReadable()) {
            session.channelRead(ctx.pipeline().context(session), rest);
        } else if (rest != null) {
            rest.release();
        }
    }

    /** Login to a database pgferry serves itself. */
    static void welcomeVirtual(LoginHandler login, SessionContext sc, ChannelHandlerContext ctx, VirtualDatabase virtual,
            String user) {
        io.netty.channel.ChannelHandler handler;
        try {
            handler = virtual.open(user, login.id());
        } catch (ProtocolException e) {
            sc.loginFailures.increment();
            login.fatal(e.sqlState(), e.getMessage());
            return;
        }
        login.ended();
        ByteBuf out = ctx.alloc().buffer(256);
        ServerMessages.authentication(out, ProtocolCodes.AUTH_OK);
        virtual.parameters().forEach((k, v) -> ServerMessages.parameterStatus(out, k, v));
        byte[] key = new byte[4];
        sc.random.nextBytes(key);
        ServerMessages.backendKeyData(out, 0, key);
        ServerMessages.readyForQuery(out, (byte) 'I');
        ctx.writeAndFlush(out);
        ByteBuf rest = login.takeRest();
        sc.clients.decrementAndGet(); // admin connections do not count against max-client-connections
        ctx.pipeline().replace(login, "virtual", handler);
        if (rest != null && rest.isReadable()) {
            ctx.pipeline().fireChannelRead(rest);
        } else if (rest != null) {
            rest.release();
        }
    }
}
