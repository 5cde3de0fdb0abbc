package dev.pgferry.session;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.CertificateAuth;
import dev.pgferry.auth.StoredCredential;
import dev.pgferry.auth.UserSecret;
import dev.pgferry.auth.hba.HbaFile;
import dev.pgferry.auth.hba.HbaMethod;
import dev.pgferry.auth.hba.HbaRule;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig.AuthType;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolPlan;
import dev.pgferry.protocol.Cumulator;
import dev.pgferry.protocol.Framing;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.protocol.StartupPacket;
import dev.pgferry.protocol.StartupParser;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Onboarding, from the first byte to ReadyForQuery: SSLRequest/GSSENCRequest ('N'), CancelRequest,
 * StartupMessage (protocol 3.0/3.2, NegotiateProtocolVersion), client authentication by pgferry itself,
 * then AuthenticationOk, ParameterStatus, BackendKeyData (pgferry's secret; in session mode the pid of the backend
 * the client keeps, leased here) and ReadyForQuery. Each step
 * logs at DEBUG with the connection id. On success it replaces itself with a {@link ClientSession}.
 * A client on the Unix-domain socket gets no TLS, as from PostgreSQL (SSLRequest 'N', see its
 * {@code ProcessStartupPacket}), and is not refused by {@code pgferry.tls.client.mode=require}.
 */
public final class LoginHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(LoginHandler.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** Connections closed without a reply, as PostgreSQL's COMMERROR: one line each, at most ten a second. */
    private static final SilentCloseLog SILENT_CLOSES = new SilentCloseLog(LOG, System::nanoTime);
    /** Startup parameters that are not session parameters. */
    private static final java.util.Set<String> NOT_PARAMETERS = java.util.Set.of("user", "database", "options",
            "replication");

    private enum Phase {
        STARTUP,
        AUTH,
        ONBOARDING,
        DONE
    }

    private final SessionContext sc;
    private final String id = "C-" + IDS.incrementAndGet();
    private ChannelHandlerContext ctx;
    private ByteBuf acc;
    private Phase phase = Phase.STARTUP;
    private final LoginEncryption encryption;
    private long startNanos;
    private long connectedMillis;
    private final LoginAdmission admission;
    private ScheduledFuture<?> loginTimeout;
    private StartupPacket.StartupMessage startup;
    private ClientAuthExchange auth;
    /** The method of the HBA line that let this client in; null without pgferry.auth.hba-file. */
    private HbaMethod hbaMethod;
    /** What this login asks of the client's certificate (HBA {@code cert}, {@code clientcert}); null: nothing. */
    private CertificateAuth certificate;
    private Pool pool;
    private Map<String, String> startupParams;
    private VirtualDatabase virtual;
    private io.netty.channel.Channel relayBackend;
    /** Why the password check failed, for the refused-login log line only (never sent to the client). */
    private String refusalDetail;

    public LoginHandler(SessionContext sc) {
        this.sc = sc;
        this.admission = new LoginAdmission(sc, id);
        this.encryption = new LoginEncryption(sc, id);
    }

    /** The connection id, kept by the session that follows the login. */
    public String id() {
        return id;
    }

    /** The pool the login is for (null before the StartupMessage, or for the admin console). */
    public Pool pool() {
        return pool;
    }

    /**
     * The user the client logged in as (null before the StartupMessage): SHOW CLIENTS' user, which with a forced user
     * is not its pool's.
     */
    public String user() {
        StartupPacket.StartupMessage m = startup;
        return m == null ? null : m.user();
    }

    /** When the client connected. */
    public long connectedMillis() {
        return connectedMillis;
    }

    /** As {@link ClientSession#remoteAddress()}. */
    public String remoteAddress() {
        return ClientSession.remoteAddress(sc, ctx == null ? null : ctx.channel());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.startNanos = System.nanoTime();
        this.connectedMillis = System.currentTimeMillis();
        encryption.connected(ctx);
        boolean unixSocket = encryption.unixSocket();
        admission.connected(ctx.channel());
        LOG.debugf("%s connected from %s", id, unixSocket ? "the Unix socket" : ctx.channel().remoteAddress());
        loginTimeout = ctx.executor().schedule(this::timedOut, sc.config.clientLoginTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    /** The login is over (served, refused or cancelled): it no longer counts against its address. */
    private void loginEnded() {
        phase = Phase.DONE;
        sc.waitingLogins.remove(this);
        admission.ended();
    }

    private void timedOut() {
        if (phase != Phase.DONE) {
            sc.loginTimeouts.increment();
            LOG.debugf("%s login timed out", id);
            fatal(SqlState.QUERY_CANCELED, "canceling authentication due to timeout");
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase == Phase.DONE) {
            ((ByteBuf) msg).release();
            return;
        }
        acc = Cumulator.append(ctx.alloc(), acc, (ByteBuf) msg);
        if (phase == Phase.STARTUP && encryption.directTls(acc)) {
            ByteBuf hello = acc;
            acc = null;
            ctx.pipeline().fireChannelRead(hello);
            return;
        }
        try {
            while (acc != null && (phase == Phase.STARTUP || phase == Phase.AUTH)) {
                int frame = phase == Phase.STARTUP ? Framing.startupFrameLength(acc) : authFrameLength();
                if (frame == Framing.NEED_MORE) {
                    break;
                }
                int start = acc.readerIndex();
                // consumed before it is handled: a handler may hand the rest of acc to the session
                acc.readerIndex(start + frame);
                if (phase == Phase.STARTUP) {
                    onStartupPacket(StartupParser.parse(acc.slice(start, frame), encryption.negotiation()));
                } else {
                    onAuthMessage(start, frame);
                }
            }
        } catch (ProtocolException e) {
            sc.protocolErrors.increment();
            if (e.answered()) {
                LOG.debugf("%s protocol violation during startup: %s", id, e.getMessage());
                fatal(e.sqlState(), e.getMessage(), e.detail());
            } else {
                closeWithoutReply(e.getMessage());
            }
        } catch (AuthException e) {
            sc.loginFailures.increment();
            LOG.debugf("%s authentication failed: %s", id, e);
            if (auth != null && AuthException.INVALID_PASSWORD.equals(e.sqlState())) {
                refusalDetail = auth.failureDetail();
            }
            // PostgreSQL sends the detail too (errdetail: e.g. what is malformed in a SCRAM message)
            fatal(e.sqlState(), e.getMessage(), e.detail());
        }
        if (acc != null) {
            acc = Cumulator.keepRest(acc);
        }
    }

    private void onStartupPacket(StartupPacket packet) throws ProtocolException, AuthException {
        if (packet instanceof StartupPacket.SslRequest) {
            encryption.onSslRequest(acc);
        } else if (packet instanceof StartupPacket.GssEncRequest) {
            encryption.onGssEncRequest(acc);
        } else if (packet instanceof StartupPacket.CancelRequest cancel) {
            LOG.debugf("%s CancelRequest for %d", id, cancel.processId());
            loginEnded();
            // PostgreSQL answers nothing and closes; pgferry closes once the server has taken the forwarded request,
            // so that a client waiting for that close (libpq, pgjdbc) sends its next query only after the cancel
            // a key of another replica goes to it (pgferry.peers); ours comes back with its hop mark cleared
            byte[] own = sc.peerCancels.route(ctx.channel().eventLoop(), cancel.processId(), cancel.secretKey(),
                    ctx::close);
            if (own != null) {
                sc.cancels.cancel(cancel.processId(), own, sc.canceller, ctx::close);
            }
        } else {
            onStartupMessage((StartupPacket.StartupMessage) packet);
        }
    }

    private void onStartupMessage(StartupPacket.StartupMessage m) throws ProtocolException, AuthException {
        startup = m;
        if (!encryption.tlsActive() && !encryption.unixSocket()
                && sc.config.tls().client().mode() == dev.pgferry.config.PgferryConfig.ClientTlsMode.REQUIRE) {
            throw new ProtocolException(SqlState.INVALID_AUTHORIZATION,
                    "SSL required: pgferry.tls.client.mode=require refuses unencrypted connections");
        }
        LOG.debugf("%s StartupMessage %d.%d user=%s database=%s", id, m.majorVersion(), m.minorVersion(), m.user(),
                m.database());
        LoginAdmission.Refusal refused = admission.refusal(m);
        if (refused != null) {
            fatal(refused.sqlState(), refused.message());
            return;
        }
        ByteBuf out = ctx.alloc().buffer(64);
        if (m.minorVersion() > ProtocolCodes.LATEST_MINOR || !m.protocolOptions().isEmpty()) {
            ServerMessages.negotiateProtocolVersion(out, Math.min(m.minorVersion(), ProtocolCodes.LATEST_MINOR),
                    m.protocolOptions());
        }
        HbaFile hba = sc.hba;
        if (hba != null && !admitted(hba, m, out)) {
            return;
        }
        startupParams = new LinkedHashMap<>();
        // as PostgreSQL's process_startup_options: the -c settings of options first, then the packet's own
        // parameters, which win over them (pgjdbc sends TimeZone itself, -c TimeZone in options loses)
        String options = m.params().get("options");
        if (options != null && !options.isBlank()) {
            try {
                startupParams.putAll(SessionParameters.parseOptions(options));
            } catch (IllegalArgumentException e) {
                out.release();
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, e.getMessage());
            }
        }
        m.params().forEach((k, v) -> {
            if (!NOT_PARAMETERS.contains(k)) {
                startupParams.put(k, v);
            }
        });
        virtual = sc.virtualDatabases.get(m.database());
        if (virtual == null && sc.servesDatabase(m.database())) {
            // a database's forced user has one pool for all its clients, as PgBouncer's (PoolPlan.key)
            pool = sc.pools.get(PoolPlan.key(sc.config, m.database(), m.user()));
        }
        phase = Phase.AUTH;
        AuthType type = hbaMethod == null ? sc.config.auth().type() : switch (hbaMethod) {
            case TRUST -> AuthType.TRUST;
            case MD5 -> AuthType.MD5;
            case PASSWORD -> AuthType.PLAIN;
            case SCRAM_SHA_256 -> AuthType.SCRAM_SHA_256;
            case CERT -> AuthType.CERT;
            case REJECT -> throw new IllegalStateException("a reject line admits no one");
        };
        if (virtual == null && pool == null && type == AuthType.PASSTHROUGH) {
            // no server to relay a passthrough login to: refused before authentication
            fatal(SqlState.PROTOCOL_VIOLATION, "no such database: " + m.database());
            out.release();
            return;
        }
        if (type == AuthType.CERT && hbaMethod == null) {
            certificate = certificateAuth(HbaMethod.CERT, HbaRule.ClientCert.VERIFY_FULL); // PgBouncer's auth_type=cert
        }
        if (certificate != null) {
            try {
                certificate.beforeExchange();
            } catch (AuthException e) {
                ctx.write(out);
                throw e;
            }
        }
        if (type == AuthType.PASSTHROUGH && virtual == null) {
            ctx.writeAndFlush(out);
            passthrough();
            return;
        }
        // cert asks the client nothing: its certificate is checked once the (empty) exchange is over
        AuthType exchange = type == AuthType.PASSTHROUGH ? AuthType.SCRAM_SHA_256
                : type == AuthType.CERT ? AuthType.TRUST : type;
        Optional<StoredCredential> credential = sc.credentials.lookup(m.user());
        if (credential.isEmpty() && sc.authQuery != null && pool != null && exchange != AuthType.TRUST) {
            ctx.writeAndFlush(out);
            ctx.channel().config().setAutoRead(false);
            sc.authQuery.lookup(ctx.channel().eventLoop(), m.database(), m.user(), found -> {
                if (phase == Phase.AUTH && ctx.channel().isActive()) {
                    ctx.channel().config().setAutoRead(true);
                    beginAuth(exchange, found, ctx.alloc().buffer(64));
                }
            }, error -> {
                sc.loginServerRefusals.increment();
                fatal(error.sqlState(), error.getMessage());
            });
            return;
        }
        beginAuth(exchange, credential, out);
    }

    /**
     * The HBA file's verdict, before any authentication as PostgreSQL's ClientAuthentication: no matching line or a
     * {@code reject} line ends the login with PostgreSQL's FATAL 28000 (after a NegotiateProtocolVersion already in
     * {@code out}, as PostgreSQL sends that before it authenticates); otherwise the line's method is the client's.
     */
    private boolean admitted(HbaFile hba, StartupPacket.StartupMessage m, ByteBuf out) {
        java.net.InetAddress address = encryption.unixSocket() ? null
                : ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
        LoginAdmission.HbaVerdict verdict = admission.hbaVerdict(hba, m, address, encryption.tlsActive());
        if (verdict.rule() != null) {
            hbaMethod = verdict.rule().method();
            certificate = certificateAuth(hbaMethod, verdict.rule().clientCert());
            return true;
        }
        ctx.write(out);
        fatal(verdict.refusal().sqlState(), verdict.refusal().message());
        return false;
    }

    private CertificateAuth certificateAuth(HbaMethod method, HbaRule.ClientCert clientCert) {
        return CertificateAuth.of(method, clientCert, encryption.peerCertificate(),
                sc.config.tls().client().caFile().isPresent());
    }

    private void beginAuth(AuthType exchange, Optional<StoredCredential> credential, ByteBuf out) {
        UserSecret secret = credential.map(StoredCredential::secret).orElse(null);
        if (exchange == AuthType.MD5 && (secret instanceof UserSecret.Scram
                || (secret == null && hbaMethod == HbaMethod.MD5))) {
            // md5 cannot check a SCRAM verifier, so its user gets SCRAM: PostgreSQL's CheckPWChallengeAuth and
            // PgBouncer's auth_type=md5 agree. For no user an HBA md5 line mocks as PostgreSQL does (SCRAM, its
            // default password_encryption); pgferry.auth.type=md5 as PgBouncer does (MD5 against a fake user).
            // A plaintext secret can answer MD5 too.
            exchange = AuthType.SCRAM_SHA_256;
        }
        auth = new ClientAuthExchange(exchange, startup.user(), credential, sc.random, encryption.channelBinding());
        ClientAuthExchange.Step step = auth.begin(out);
        ctx.writeAndFlush(out);
        if (step == ClientAuthExchange.Step.OK) {
            authenticated();
        }
    }

    /**
     * Passthrough: a fresh backend authenticates this client. The server's Authentication requests go to the
     * client verbatim, the client's answers to the server; the server's verdict is the client's, and the
     * backend then joins the pool.
     */
    private void passthrough() {
        pool.openWithRelay(ctx.channel().eventLoop(), new BackendCredentials.Relay(startup.user(), (backend, request) -> {
            relayBackend = backend;
            ctx.writeAndFlush(request);
        })).addListener(f -> {
            if (phase != Phase.AUTH || !ctx.channel().isActive()) {
                if (f.isSuccess()) {
                    ((ServerConnection) f.getNow()).close();
                }
                return;
            }
            relayBackend = null;
            if (!f.isSuccess()) {
                sc.loginFailures.increment();
                Throwable e = f.cause();
                String code = e instanceof dev.pgferry.backend.BackendException be ? be.sqlState()
                        : SqlState.CONNECTION_FAILURE;
                fatal(code, e.getMessage());
                return;
            }
            ServerConnection conn = (ServerConnection) f.getNow();
            pool.adopt(conn);
            authenticated();
        });
    }

    /**
     * The size of the authentication message at the head of {@code acc}, read as PostgreSQL reads it: the type byte
     * first (recv_password_packet, CheckSASLAuth: anything but 'p' is a FATAL naming it), then pq_getmessage's length
     * check, whose failure each method takes its own way ({@link ClientAuthExchange#refuseUnreadableMessage}).
     */
    private int authFrameLength() throws ProtocolException, AuthException {
        if (!acc.isReadable()) {
            return Framing.NEED_MORE;
        }
        byte type = acc.getByte(acc.readerIndex());
        if (type != ProtocolCodes.PASSWORD) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, (auth == null ? "expected password response"
                    : auth.expectedResponse()) + ", got message type " + (type & 0xff));
        }
        try {
            return Framing.messageFrameLength(acc, auth == null ? ClientAuthExchange.MAX_PASSWORD_MESSAGE
                    : auth.maxMessageLength());
        } catch (ProtocolException badLength) {
            if (auth != null) {
                auth.refuseUnreadableMessage();
            }
            throw ProtocolException.unanswered("invalid message length");
        }
    }

    private void onAuthMessage(int start, int frame) throws ProtocolException, AuthException {
        if (auth == null) {
            if (relayBackend == null) {
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "unexpected password message");
            }
            relayBackend.writeAndFlush(acc.retainedSlice(start, frame));
            return;
        }
        ByteBuf out = ctx.alloc().buffer(128);
        ClientAuthExchange.Step step;
        try {
            step = auth.onPasswordMessage(acc, start, frame, out);
        } catch (AuthException | ProtocolException e) {
            out.release();
            throw e;
        }
        ctx.writeAndFlush(out);
        if (step == ClientAuthExchange.Step.OK) {
            authenticated();
        }
    }

    private void authenticated() {
        if (certificate != null) {
            try {
                certificate.afterExchange(startup.user());
            } catch (AuthException e) {
                sc.loginFailures.increment();
                LOG.debugf("%s authentication failed: %s", id, e);
                fatal(e.sqlState(), e.getMessage(), e.detail());
                return;
            }
        }
        phase = Phase.ONBOARDING;
        LOG.debugf("%s authenticated as %s", id, startup.user());
        if (virtual != null) {
            LoginWelcome.welcomeVirtual(this, sc, ctx, virtual, startup.user());
            return;
        }
        if (pool == null) {
            // PgBouncer's finish_client_login: a name it does not serve is refused only after authentication, so a
            // login does not learn which databases exist
            sc.loginLimitRefusals.increment();
            fatal(SqlState.PROTOCOL_VIOLATION, "no such database: " + startup.database());
            return;
        }
        if (sc.disabledDatabases.contains(startup.database())) {
            // disabled while this client authenticated: PgBouncer's finish_client_login refuses it so
            sc.loginLimitRefusals.increment();
            fatal(SqlState.PROTOCOL_VIOLATION, "database \"" + startup.database() + "\" is disabled");
            return;
        }
        LoginWelcome welcome = new LoginWelcome(this, sc, ctx, startup, pool, startupParams);
        if (auth != null) {
            welcome.learnBackendCredentials(auth);
        }
        ByteBuf ok = ctx.alloc().buffer(9);
        ServerMessages.authentication(ok, ProtocolCodes.AUTH_OK);
        ctx.write(ok);
        welcome.prepareWelcome();
    }

    /** Whether the login is past authentication and not yet over: a lease or check that ends now is still wanted. */
    boolean onboarding() {
        return phase == Phase.ONBOARDING;
    }

    long startNanos() {
        return startNanos;
    }

    /** The login timer stops: a session-mode client waits for the pool as a query does, not as a login. */
    void stopLoginTimer() {
        loginTimeout.cancel(false);
    }

    /** The login succeeded and is handed over. */
    void ended() {
        loginEnded();
        loginTimeout.cancel(false);
    }

    /** What the client sent after its login, for whoever takes the connection over (null if nothing). */
    ByteBuf takeRest() {
        ByteBuf rest = acc;
        acc = null;
        return rest;
    }

    void fatal(String sqlState, String message) {
        fatal(sqlState, message, null);
    }

    /** The login is over without a handover: its timer stopped, what it had read released. */
    private void releaseLogin() {
        loginEnded();
        if (loginTimeout != null) {
            loginTimeout.cancel(false);
        }
        if (acc != null) {
            acc.release();
            acc = null;
        }
    }

    /**
     * Ends this login as PostgreSQL ends a connection after a COMMERROR: nothing sent, the connection closed, and one
     * line in the log (rate-limited: anyone can send a bad length).
     */
    private void closeWithoutReply(String reason) {
        SILENT_CLOSES.closing(id, remoteAddress(), reason);
        releaseLogin();
        ctx.close();
    }

    /**
     * The connection ended in the middle of a packet: PostgreSQL logs that (a COMMERROR to nobody), except a partial
     * length word once an encryption request was answered, which is how a client that did not like the answer
     * leaves (ProcessStartupPacket). An end between packets is not worth a line.
     */
    private void logIncompletePacket() {
        if (acc == null || !acc.isReadable()) {
            return;
        }
        if (phase == Phase.STARTUP && (acc.readableBytes() >= 4
                || (encryption.negotiation().sslRequestOpen() && encryption.negotiation().gssEncRequestOpen()))) {
            SILENT_CLOSES.closing(id, remoteAddress(), "incomplete startup packet");
        } else if (phase == Phase.AUTH) {
            SILENT_CLOSES.closing(id, remoteAddress(), acc.readableBytes() < 5
                    ? "unexpected EOF within message length word" : "incomplete message from client");
        }
    }

    /** Ends this login with a FATAL error, on its own loop (the admin console's KILL). */
    public void kill(String sqlState, String message) {
        ctx.channel().eventLoop().execute(() -> fatal(sqlState, message));
    }

    private void fatal(String sqlState, String message, String detail) {
        if (phase == Phase.DONE && !ctx.channel().isActive()) {
            return;
        }
        if (startup != null && phase != Phase.DONE) {
            sc.refusedLogins.refused(ctx.channel(), id, startup.user(), startup.database(), remoteAddress(), sqlState,
                    message, refusalDetail != null ? refusalDetail : detail);
        }
        loginEnded();
        if (loginTimeout != null) {
            loginTimeout.cancel(false);
        }
        ByteBuf out = ServerMessages.errorResponse(ctx.alloc(), "FATAL", sqlState, message, detail);
        ctx.writeAndFlush(out).addListener(f -> ctx.close());
        if (acc != null) {
            acc.release();
            acc = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        sc.clients.decrementAndGet(); // only called while this handler is in the pipeline (before handover)
        logIncompletePacket();
        releaseLogin();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debugf("%s connection error during login: %s", id, cause.toString());
        ctx.close();
    }
}
