package dev.pgferry.session;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.hba.HbaFile;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolPlan;
import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.protocol.StartupFrameDecoder;
import dev.pgferry.protocol.StartupPacket;
import dev.pgferry.protocol.StartupParser;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Map;
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

    private enum Phase {
        STARTUP,
        AUTH,
        ONBOARDING,
        DONE
    }

    private final SessionContext sc;
    private final String id = "C-" + IDS.incrementAndGet();
    private ChannelHandlerContext ctx;
    /** Frames the startup packets; then, from the StartupMessage on, {@link #messages} frames what follows. */
    private final StartupFrameDecoder startupFrames = new StartupFrameDecoder();
    private final MessageFrameDecoder messages = new MessageFrameDecoder(ClientAuthExchange.MAX_PASSWORD_MESSAGE);
    private Phase phase = Phase.STARTUP;
    private final LoginEncryption encryption;
    private long startNanos;
    private long connectedMillis;
    private final LoginAdmission admission;
    private final LoginAuthentication authentication;
    private ScheduledFuture<?> loginTimeout;
    private StartupPacket.StartupMessage startup;
    private Pool pool;
    private Map<String, String> startupParams;
    private VirtualDatabase virtual;

    public LoginHandler(SessionContext sc) {
        this.sc = sc;
        this.admission = new LoginAdmission(sc, id);
        this.encryption = new LoginEncryption(sc, id);
        this.authentication = new LoginAuthentication(sc, this, encryption);
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
        FrameDecoder frames = phase == Phase.STARTUP ? startupFrames : messages;
        frames.append(ctx.alloc(), (ByteBuf) msg);
        if (phase == Phase.STARTUP && encryption.directTls(startupFrames.buffer())) {
            ctx.pipeline().fireChannelRead(startupFrames.takeRest());
            return;
        }
        try {
            readFrames();
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
            authentication.failed(e);
            // PostgreSQL sends the detail too (errdetail: e.g. what is malformed in a SCRAM message)
            fatal(e.sqlState(), e.getMessage(), e.detail());
        }
        startupFrames.releaseIfEmpty();
        messages.releaseIfEmpty();
    }

    /** Handles every complete frame read, while the login reads any: startup packets, then password messages. */
    private void readFrames() throws ProtocolException, AuthException {
        while (true) {
            if (phase == Phase.STARTUP) {
                int frame = startupFrames.next();
                if (frame == FrameDecoder.NEED_MORE) {
                    return;
                }
                ByteBuf in = startupFrames.buffer();
                int start = in.readerIndex();
                // consumed before it is handled: what follows it is what the encryption step checks, or the rest
                startupFrames.skipFrame();
                onStartupPacket(StartupParser.parse(in.slice(start, frame), encryption.negotiation()));
            } else if (phase == Phase.AUTH) {
                int frame = authentication.nextFrame(messages);
                if (frame == FrameDecoder.NEED_MORE) {
                    return;
                }
                authentication.onMessage(messages, frame);
            } else {
                return; // welcoming: what comes meanwhile is kept for the session
            }
        }
    }

    private void onStartupPacket(StartupPacket packet) throws ProtocolException, AuthException {
        if (packet instanceof StartupPacket.SslRequest) {
            encryption.onSslRequest(startupFrames.buffer());
        } else if (packet instanceof StartupPacket.GssEncRequest) {
            encryption.onGssEncRequest(startupFrames.buffer());
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
        try {
            startupParams = SessionParameters.ofStartup(m.params());
        } catch (IllegalArgumentException e) {
            out.release();
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, e.getMessage());
        }
        virtual = sc.virtualDatabases.get(m.database());
        if (virtual == null && sc.servesDatabase(m.database())) {
            // a database's forced user has one pool for all its clients, as PgBouncer's (PoolPlan.key)
            pool = sc.pools.get(PoolPlan.key(sc.config, m.database(), m.user()));
        }
        phase = Phase.AUTH;
        messages.takeOver(startupFrames);
        authentication.start(ctx, m, pool, virtual, out);
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
            authentication.admittedBy(verdict.rule());
            return true;
        }
        ctx.write(out);
        fatal(verdict.refusal().sqlState(), verdict.refusal().message());
        return false;
    }

    /** The client is who it says it is: on to the welcome, or refused if its database is not served. */
    void authenticated() {
        try {
            authentication.verifyCertificate();
        } catch (AuthException e) {
            sc.loginFailures.increment();
            LOG.debugf("%s authentication failed: %s", id, e);
            fatal(e.sqlState(), e.getMessage(), e.detail());
            return;
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
        if (authentication.exchange() != null) {
            welcome.learnBackendCredentials(authentication.exchange());
        }
        ByteBuf ok = ctx.alloc().buffer(9);
        ServerMessages.authentication(ok, ProtocolCodes.AUTH_OK);
        ctx.write(ok);
        welcome.prepareWelcome();
    }

    /** Whether the login is authenticating: an answer (a credential, a backend's verdict) that comes now is wanted. */
    boolean authenticating() {
        return phase == Phase.AUTH;
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
        return messages.takeRest();
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
        startupFrames.release();
        messages.release();
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
        if (phase == Phase.STARTUP && startupFrames.readableBytes() > 0 && (startupFrames.readableBytes() >= 4
                || (encryption.negotiation().sslRequestOpen() && encryption.negotiation().gssEncRequestOpen()))) {
            SILENT_CLOSES.closing(id, remoteAddress(), "incomplete startup packet");
        } else if (phase == Phase.AUTH && messages.readableBytes() > 0) {
            SILENT_CLOSES.closing(id, remoteAddress(), messages.readableBytes() < 5
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
                    message, authentication.refusalDetail() != null ? authentication.refusalDetail() : detail);
        }
        loginEnded();
        if (loginTimeout != null) {
            loginTimeout.cancel(false);
        }
        ByteBuf out = ServerMessages.errorResponse(ctx.alloc(), "FATAL", sqlState, message, detail);
        ctx.writeAndFlush(out).addListener(f -> ctx.close());
        startupFrames.release();
        messages.release();
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
