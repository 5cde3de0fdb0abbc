package dev.pgferry.session;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.CertificateAuth;
import dev.pgferry.auth.StoredCredential;
import dev.pgferry.auth.UserSecret;
import dev.pgferry.auth.hba.HbaMethod;
import dev.pgferry.auth.hba.HbaRule;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig.AuthType;
import dev.pgferry.pool.Pool;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.protocol.StartupPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The authentication step of a login ({@link LoginHandler}), from the StartupMessage to the verdict: which method
 * the client gets (the HBA line's, else {@code pgferry.auth.type}), the exchange itself ({@link ClientAuthExchange}:
 * trust, cleartext, MD5, SCRAM-SHA-256), a credential looked up by {@code auth_query} first where the users file has
 * none, the client certificate where the method asks for one, and passthrough, where a fresh backend is the judge.
 * It tells the login {@link LoginHandler#authenticated} or {@link LoginHandler#fatal}, or throws what ends it.
 */
final class LoginAuthentication {
    private static final Logger LOG = Logger.getLogger(LoginHandler.class);

    private final SessionContext sc;
    private final LoginHandler login;
    private final LoginEncryption encryption;
    private ChannelHandlerContext ctx;
    private StartupPacket.StartupMessage startup;
    /** The method of the HBA line that let this client in; null without pgferry.auth.hba-file. */
    private HbaMethod hbaMethod;
    /** What this login asks of the client's certificate (HBA {@code cert}, {@code clientcert}); null: nothing. */
    private CertificateAuth certificate;
    private ClientAuthExchange exchange;
    /** Passthrough: the backend the client's answers go to, until it has judged them. */
    private Channel relayBackend;
    /** Why the password check failed, for the refused-login log line only (never sent to the client). */
    private String refusalDetail;

    LoginAuthentication(SessionContext sc, LoginHandler login, LoginEncryption encryption) {
        this.sc = sc;
        this.login = login;
        this.encryption = encryption;
    }

    /** The HBA line that admitted the client: its method and certificate demands are the client's. */
    void admittedBy(HbaRule rule) {
        hbaMethod = rule.method();
        certificate = certificateAuth(hbaMethod, rule.clientCert());
    }

    /**
     * Starts authenticating the client of {@code m}, for {@code pool} or {@code virtual} (either may be null: a
     * database not served is refused only after authentication). {@code out} holds what goes to the client first (a
     * NegotiateProtocolVersion) and is written or released here.
     */
    void start(ChannelHandlerContext ctx, StartupPacket.StartupMessage m, Pool pool, VirtualDatabase virtual,
            ByteBuf out) throws AuthException {
        this.ctx = ctx;
        this.startup = m;
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
            login.fatal(SqlState.PROTOCOL_VIOLATION, "no such database: " + m.database());
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
            passthrough(pool);
            return;
        }
        // cert asks the client nothing: its certificate is checked once the (empty) exchange is over
        AuthType method = type == AuthType.PASSTHROUGH ? AuthType.SCRAM_SHA_256
                : type == AuthType.CERT ? AuthType.TRUST : type;
        Optional<StoredCredential> credential = sc.credentials.lookup(m.user());
        if (credential.isEmpty() && sc.authQuery != null && pool != null && method != AuthType.TRUST) {
            ctx.writeAndFlush(out);
            ctx.channel().config().setAutoRead(false);
            sc.authQuery.lookup(ctx.channel().eventLoop(), m.database(), m.user(), found -> {
                if (login.authenticating() && ctx.channel().isActive()) {
                    ctx.channel().config().setAutoRead(true);
                    begin(method, found, ctx.alloc().buffer(64));
                }
            }, error -> {
                sc.loginServerRefusals.increment();
                login.fatal(error.sqlState(), error.getMessage());
            });
            return;
        }
        begin(method, credential, out);
    }

    private CertificateAuth certificateAuth(HbaMethod method, HbaRule.ClientCert clientCert) {
        return CertificateAuth.of(method, clientCert, encryption.peerCertificate(),
                sc.config.tls().client().caFile().isPresent());
    }

    private void begin(AuthType method, Optional<StoredCredential> credential, ByteBuf out) {
        UserSecret secret = credential.map(StoredCredential::secret).orElse(null);
        if (method == AuthType.MD5 && (secret instanceof UserSecret.Scram
                || (secret == null && hbaMethod == HbaMethod.MD5))) {
            // md5 cannot check a SCRAM verifier, so its user gets SCRAM: PostgreSQL's CheckPWChallengeAuth and
            // PgBouncer's auth_type=md5 agree. For no user an HBA md5 line mocks as PostgreSQL does (SCRAM, its
            // default password_encryption); pgferry.auth.type=md5 as PgBouncer does (MD5 against a fake user).
            // A plaintext secret can answer MD5 too.
            method = AuthType.SCRAM_SHA_256;
        }
        exchange = new ClientAuthExchange(method, startup.user(), credential, sc.random, encryption.channelBinding());
        ClientAuthExchange.Step step = exchange.begin(out);
        ctx.writeAndFlush(out);
        if (step == ClientAuthExchange.Step.OK) {
            login.authenticated();
        }
    }

    /**
     * Passthrough: a fresh backend authenticates this client. The server's Authentication requests go to the
     * client verbatim, the client's answers to the server; the server's verdict is the client's, and the
     * backend then joins the pool.
     */
    private void passthrough(Pool pool) {
        pool.openWithRelay(ctx.channel().eventLoop(), new BackendCredentials.Relay(startup.user(), (backend, request) -> {
            relayBackend = backend;
            ctx.writeAndFlush(request);
        })).addListener(f -> {
            if (!login.authenticating() || !ctx.channel().isActive()) {
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
                login.fatal(code, e.getMessage());
                return;
            }
            pool.adopt((ServerConnection) f.getNow());
            login.authenticated();
        });
    }

    /**
     * The size of the client's next message, read as PostgreSQL reads it: the type byte first (recv_password_packet,
     * CheckSASLAuth: anything but 'p' is a FATAL naming it), then pq_getmessage's length check, whose failure each
     * method takes its own way ({@link ClientAuthExchange#refuseUnreadableMessage}).
     */
    int nextFrame(MessageFrameDecoder frames) throws ProtocolException, AuthException {
        int type = frames.peekType();
        if (type < 0) {
            return MessageFrameDecoder.NEED_MORE;
        }
        if (type != ProtocolCodes.PASSWORD) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, (exchange == null ? "expected password response"
                    : exchange.expectedResponse()) + ", got message type " + type);
        }
        frames.maxLength(exchange == null ? ClientAuthExchange.MAX_PASSWORD_MESSAGE : exchange.maxMessageLength());
        try {
            return frames.next();
        } catch (ProtocolException badLength) {
            if (exchange != null) {
                exchange.refuseUnreadableMessage();
            }
            throw ProtocolException.unanswered("invalid message length");
        }
    }

    /** The client's message the last {@link #nextFrame} announced, consumed here. */
    void onMessage(MessageFrameDecoder frames, int frame) throws ProtocolException, AuthException {
        if (exchange == null) {
            if (relayBackend == null) {
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "unexpected password message");
            }
            relayBackend.writeAndFlush(frames.readFrame());
            return;
        }
        ByteBuf in = frames.buffer();
        int start = in.readerIndex();
        // consumed before it is handled: the handover to the session may take the rest of the buffer
        frames.skipFrame();
        ByteBuf out = ctx.alloc().buffer(128);
        ClientAuthExchange.Step step;
        try {
            step = exchange.onPasswordMessage(in, start, frame, out);
        } catch (AuthException | ProtocolException e) {
            out.release();
            throw e;
        }
        ctx.writeAndFlush(out);
        if (step == ClientAuthExchange.Step.OK) {
            login.authenticated();
        }
    }

    /** After the exchange: the client certificate's check, where the method asks for one. */
    void verifyCertificate() throws AuthException {
        if (certificate != null) {
            certificate.afterExchange(startup.user());
        }
    }

    /** A failed authentication: keeps why a password was wrong, for the refused-login log line. */
    void failed(AuthException e) {
        if (exchange != null && AuthException.INVALID_PASSWORD.equals(e.sqlState())) {
            refusalDetail = exchange.failureDetail();
        }
    }

    /** Why the password check failed (never sent to the client); null if it did not. */
    String refusalDetail() {
        return refusalDetail;
    }

    /** The finished exchange (null for passthrough), which may teach the pool the backend's credentials. */
    ClientAuthExchange exchange() {
        return exchange;
    }
}
