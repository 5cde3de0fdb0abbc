package dev.pgferry.session;

import dev.pgferry.auth.AuthException;
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
 * A client connection's login, from the first byte to ReadyForQuery, as steps: encryption ({@link LoginEncryption}:
 * SSLRequest, GSSENCRequest, direct TLS), startup (here: CancelRequest, the StartupMessage with protocol 3.0/3.2 and
 * NegotiateProtocolVersion, its parameters), admission ({@link LoginAdmission}: limits, HBA), authentication
 * ({@link LoginAuthentication}) and the welcome ({@link LoginWelcome}: ParameterStatus, BackendKeyData, ReadyForQuery),
 * which replaces this handler with a {@link ClientSession}. It drives the login states of {@link SessionState}
 * (STARTUP, AUTHENTICATING, WELCOMING) and reads through the protocol's frame decoders. Each step logs at DEBUG with
 * the connection id. A client on the Unix-domain socket gets no TLS, as from PostgreSQL (SSLRequest 'N', see its
 * {@code ProcessStartupPacket}), and is not refused by {@code pgferry.tls.client.mode=require}.
 */
public final class LoginHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(LoginHandler.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** Connections closed without a reply, as PostgreSQL's COMMERROR: one line each, at most ten a second. */
    private static final SilentCloseLog SILENT_CLOSES = new SilentCloseLog(LOG, System::nanoTime);

    private final SessionContext sc;
    private final String id = "C-" + IDS.incrementAndGet();
    private ChannelHandlerContext ctx;
    /** Frames the startup packets; then, from the StartupMessage on, {@link #messages} frames what follows. */
    private final StartupFrameDecoder startupFrames = new StartupFrameDecoder();
    private final MessageFrameDecoder messages = new MessageFrameDecoder(ClientAuthExchange.MAX_PASSWORD_MESSAGE);
    /** STARTUP, AUTHENTICATING, WELCOMING; then IDLE once handed over, or CLOSED ({@link SessionState}). */
    private SessionState state = SessionState.STARTUP;
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

    /** Moves the login along {@link SessionState#on}. */
    private void to(SessionState.Event e) {
        state = state.on(e);
    }

    /**
     * The login is over, served ({@code WELCOMED}) or refused or canceled ({@code CLOSE}): it no longer counts
     * against its address.
     */
    private void loginEnded(SessionState.Event e) {
        to(e);
        sc.waitingLogins.remove(this);
        admission.ended();
    }

    private void timedOut() {
        if (state.loggingIn()) {
            sc.loginTimeouts.increment();
            LOG.debugf("%s login timed out", id);
            fatal(SqlState.QUERY_CANCELED, "canceling authentication due to timeout");
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!state.loggingIn()) {
            ((ByteBuf) msg).release();
            return;
        }
        FrameDecoder frames = state == SessionState.STARTUP ? startupFrames : messages;
        frames.append(ctx.alloc(), (ByteBuf) msg);
        if (state == SessionState.STARTUP && encryption.directTls(startupFrames.buffer())) {
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
            switch (state) {
                case STARTUP -> {
                    int frame = startupFrames.next();
                    if (frame == FrameDecoder.NEED_MORE) {
                        return;
                    }
                    ByteBuf in = startupFrames.buffer();
                    int start = in.readerIndex();
                    // consumed before it is handled: what follows it is what the encryption step checks
                    startupFrames.skipFrame();
                    onStartupPacket(StartupParser.parse(in.slice(start, frame), encryption.negotiation()));
                }
                case AUTHENTICATING -> {
                    int frame = authentication.nextFrame(messages);
                    if (frame == FrameDecoder.NEED_MORE) {
                        return;
                    }
                    authentication.onMessage(messages, frame);
                }
                case WELCOMING -> {
                    return; // what comes meanwhile is kept for the session
                }
                case IDLE, SKIPPING_TO_SYNC, LEASING, CHECKING, RESTORING, RELAYING, FIXUP, CLOSED -> {
                    return; // handed over or ended: the session reads from now on, or no one
                }
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
            loginEnded(SessionState.Event.CLOSE);
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
        encryption.refuseUnencrypted();
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
        if (sc.hba != null) {
            // before any authentication, as PostgreSQL's ClientAuthentication (after a NegotiateProtocolVersion)
            LoginAdmission.HbaVerdict verdict = admission.hbaVerdict(sc.hba, m, encryption.tlsActive());
            if (verdict.rule() == null) {
                ctx.write(out);
                fatal(verdict.refusal().sqlState(), verdict.refusal().message());
                return;
            }
            authentication.admittedBy(verdict.rule());
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
        to(SessionState.Event.STARTUP_MESSAGE);
        messages.takeOver(startupFrames);
        authentication.start(ctx, m, pool, virtual, out);
    }

    /** The client is who it says it is (its certificate too, if asked for): on to the welcome. */
    void authenticated() {
        try {
            authentication.verifyCertificate();
        } catch (AuthException e) {
            sc.loginFailures.increment();
            LOG.debugf("%s authentication failed: %s", id, e);
            fatal(e.sqlState(), e.getMessage(), e.detail());
            return;
        }
        to(SessionState.Event.AUTHENTICATED);
        LOG.debugf("%s authenticated as %s", id, startup.user());
        LoginWelcome.begin(this, sc, ctx, startup, pool, virtual, startupParams, authentication.exchange());
    }

    /** Whether the login is authenticating: an answer (a credential, a backend's verdict) that comes now is wanted. */
    boolean authenticating() {
        return state == SessionState.AUTHENTICATING;
    }

    /** Whether the login is past authentication and not yet over: a lease or check that ends now is still wanted. */
    boolean onboarding() {
        return state == SessionState.WELCOMING;
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
        loginEnded(SessionState.Event.WELCOMED);
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
        loginEnded(SessionState.Event.CLOSE);
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
        if (state == SessionState.STARTUP && startupFrames.readableBytes() > 0 && (startupFrames.readableBytes() >= 4
                || (encryption.negotiation().sslRequestOpen() && encryption.negotiation().gssEncRequestOpen()))) {
            SILENT_CLOSES.closing(id, remoteAddress(), "incomplete startup packet");
        } else if (state == SessionState.AUTHENTICATING && messages.readableBytes() > 0) {
            SILENT_CLOSES.closing(id, remoteAddress(), messages.readableBytes() < 5
                    ? "unexpected EOF within message length word" : "incomplete message from client");
        }
    }

    /** Ends this login with a FATAL error, on its own loop (the admin console's KILL). */
    public void kill(String sqlState, String message) {
        ctx.channel().eventLoop().execute(() -> fatal(sqlState, message));
    }

    private void fatal(String sqlState, String message, String detail) {
        if (!state.loggingIn() && !ctx.channel().isActive()) {
            return;
        }
        if (startup != null && state.loggingIn()) {
            sc.refusedLogins.refused(ctx.channel(), id, startup.user(), startup.database(), remoteAddress(), sqlState,
                    message, authentication.refusalDetail() != null ? authentication.refusalDetail() : detail);
        }
        loginEnded(SessionState.Event.CLOSE);
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
