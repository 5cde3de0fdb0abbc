package dev.pgferry.backend;

import dev.pgferry.auth.AuthException;
import dev.pgferry.auth.ChannelBinding;
import dev.pgferry.auth.ChannelBindingPolicy;
import dev.pgferry.auth.ClientChannelBinding;
import dev.pgferry.auth.Md5Auth;
import dev.pgferry.auth.ScramClient;
import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.Framing;
import dev.pgferry.protocol.FrontendMessages;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.jboss.logging.Logger;

/** Drives one backend from TCP connect to its first ReadyForQuery, then hands the pipeline to the relay. */
final class BackendStartupHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(BackendStartupHandler.class);
    private static final int MAX_STARTUP_MESSAGE = 1 << 20;

    /** Where the login to the server stands. */
    private enum State {
        /** Connecting: nothing sent yet. */
        CONNECTING,
        /** SSLRequest sent: the next byte read is the server's answer, 'S' or 'N'. */
        SSL_NEGOTIATION,
        /** 'S' came: the TLS handshake runs, and the StartupMessage follows it. */
        TLS_HANDSHAKE,
        /** StartupMessage sent: the server's Authentication requests are answered until AuthenticationOk. */
        AUTHENTICATING,
        /** Authenticated: ParameterStatus and BackendKeyData are collected until ReadyForQuery. */
        READING_PARAMETERS,
        /** ReadyForQuery came, or a ping was answered: the promise holds the connection. */
        READY,
        /** Given up: the promise failed and the connection is closing. */
        FAILED
    }

    private final ServerConnection conn;
    private final BackendCredentials credentials;
    private final Map<String, String> startupParams;
    private final Promise<ServerConnection> promise;
    private final MessageFrameDecoder frames = new MessageFrameDecoder(MAX_STARTUP_MESSAGE);
    private State state = State.CONNECTING;
    private ScramClient scram;
    private final BackendTls tls;
    private final ChannelBindingPolicy channelBinding;

    BackendStartupHandler(ServerConnection conn, BackendCredentials credentials, Map<String, String> startupParams,
            Promise<ServerConnection> promise, BackendTls tls, ChannelBindingPolicy channelBinding) {
        this.conn = conn;
        this.tls = tls;
        this.channelBinding = channelBinding;
        this.credentials = credentials;
        this.startupParams = startupParams;
        this.promise = promise;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (tls != null) {
            ByteBuf out = ctx.alloc().buffer(8);
            FrontendMessages.sslRequest(out);
            ctx.writeAndFlush(out);
            state = State.SSL_NEGOTIATION;
            LOG.debugf("%s sent SSLRequest", conn);
            return;
        }
        sendStartupWithoutTls(ctx);
    }

    /** The server's one-byte answer to SSLRequest: 'S' starts the handshake, 'N' means no TLS there. */
    private void onSslAnswer(ChannelHandlerContext ctx, ByteBuf in) {
        state = State.TLS_HANDSHAKE; // or, at 'N', AUTHENTICATING at once (sendStartup), or FAILED
        byte answer = in.readByte();
        if (in.isReadable()) {
            // anything after the answer would be trusted as if it came over TLS (CVE-2021-23222)
            in.release();
            fail(ctx, new BackendException(SqlState.PROTOCOL_VIOLATION,
                    "server sent unencrypted data after SSL response", false, null));
            return;
        }
        in.release();
        if (answer == 'S') {
            var handler = tls.newHandler(ctx.alloc(), conn.target().host(), conn.target().port());
            ctx.pipeline().addFirst("tls", handler);
            handler.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                    LOG.debugf("%s TLS established (%s)", conn, tls.mode());
                    sendStartup(ctx);
                } else {
                    fail(ctx, new BackendException(SqlState.CONNECTION_FAILURE,
                            "SSL handshake with server " + conn.target().address() + " failed: " + f.cause().getMessage(), false, f.cause()));
                }
            });
        } else if (answer == 'N' && tls.plaintextAllowed()) {
            sendStartupWithoutTls(ctx);
        } else {
            fail(ctx, new BackendException(SqlState.CONNECTION_FAILURE, "server " + conn.target().address()
                    + " does not support SSL, but pgferry.tls.server.mode="
                    + tls.mode().name().toLowerCase().replace('_', '-') + " requires it", false, null));
        }
    }

    /** Under channel-binding {@code require} a plaintext connection is given up before it says anything. */
    private void sendStartupWithoutTls(ChannelHandlerContext ctx) {
        try {
            channelBinding.checkTransport(false);
        } catch (AuthException e) {
            fail(ctx, authFailure(e));
            return;
        }
        sendStartup(ctx);
    }

    private void sendStartup(ChannelHandlerContext ctx) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", credentials.user());
        params.put("database", conn.target().database());
        params.putAll(startupParams);
        ByteBuf out = ctx.alloc().buffer(64);
        FrontendMessages.startupMessage(out, params);
        ctx.writeAndFlush(out);
        state = State.AUTHENTICATING;
        LOG.debugf("%s sent StartupMessage", conn);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        switch (state) {
            case SSL_NEGOTIATION -> onSslAnswer(ctx, in);
            // the server speaks only after the StartupMessage; whatever it sends earlier is read as the same stream
            case CONNECTING, TLS_HANDSHAKE, AUTHENTICATING, READING_PARAMETERS -> onMessages(ctx, in);
            case READY, FAILED -> in.release(); // the pipeline is handed over or closing: nothing more is read here
        }
    }

    private boolean reading() {
        return !promise.isDone() && state != State.READY && state != State.FAILED;
    }

    private void onMessages(ChannelHandlerContext ctx, ByteBuf in) {
        frames.append(ctx.alloc(), in);
        try {
            while (reading() && frames.next() != FrameDecoder.NEED_MORE) {
                ByteBuf message = frames.readFrame();
                try {
                    handle(ctx, message);
                } finally {
                    message.release();
                }
            }
        } catch (ProtocolException e) {
            fail(ctx, new BackendException(e.sqlState(), "server sent an invalid message: " + e.getMessage(), false, e));
        } catch (AuthException e) {
            fail(ctx, authFailure(e));
        }
        if (promise.isDone() && credentials instanceof BackendCredentials.Ping) {
            // answered: nothing follows on a ping's connection (it is closed, or terminated by its caller)
            frames.release();
        } else if (promise.isDone() && promise.isSuccess()) {
            ByteBuf rest = frames.takeRest();
            ctx.pipeline().replace(this, "relay", new ServerConnection.RelayHandler(conn));
            if (rest != null) {
                conn.markBroken(); // nothing may follow ReadyForQuery before we send a query
                rest.release();
                ctx.close();
            }
        } else {
            frames.releaseIfEmpty();
        }
    }

    /** One whole message from the server, at {@code m}'s reader index. */
    private void handle(ChannelHandlerContext ctx, ByteBuf m) throws ProtocolException, AuthException {
        int start = m.readerIndex();
        int frame = m.readableBytes();
        byte type = m.getByte(start);
        switch (type) {
            case ProtocolCodes.AUTHENTICATION -> authenticate(ctx, m, start, start + frame);
            case ProtocolCodes.PARAMETER_STATUS -> {
                String[] kv = MessageReader.parameterStatus(m, start);
                conn.reported.put(kv[0], kv[1]);
            }
            case ProtocolCodes.BACKEND_KEY_DATA -> {
                conn.processId = m.getInt(start + 5);
                byte[] key = new byte[frame - 9];
                m.getBytes(start + 9, key);
                conn.secretKey = key;
            }
            case ProtocolCodes.READY_FOR_QUERY -> {
                LOG.debugf("%s ready", conn);
                state = State.READY;
                promise.trySuccess(conn);
            }
            case ProtocolCodes.ERROR_RESPONSE -> {
                Map<Character, String> f = MessageReader.errorFields(m, start);
                String code = f.getOrDefault('C', SqlState.CONNECTION_FAILURE);
                if (credentials instanceof BackendCredentials.Ping && !code.equals(SqlState.CANNOT_CONNECT_NOW)) {
                    // PQping: any refusal but "cannot connect now" means the server is up and taking logins
                    LOG.debugf("%s answered the ping with %s %s", conn, code, f.get('M'));
                    answeredPing(ctx);
                    return;
                }
                LOG.debugf("%s refused: %s %s", conn, code, f.get('M'));
                fail(ctx, new BackendException(code, f.getOrDefault('M', "server refused the connection"), true, null));
            }
            case ProtocolCodes.NOTICE_RESPONSE, ProtocolCodes.NEGOTIATE_PROTOCOL_VERSION -> {
                // informational during startup
            }
            default -> throw new ProtocolException(SqlState.PROTOCOL_VIOLATION,
                    "unexpected message type \"" + Framing.printable(type) + "\" during startup");
        }
    }

    private static BackendException authFailure(AuthException e) {
        return new BackendException(e.sqlState(), "authentication with the server failed: " + e.getMessage(), false, e);
    }

    private void authenticate(ChannelHandlerContext ctx, ByteBuf m, int start, int end)
            throws ProtocolException, AuthException {
        int code = m.getInt(start + 5);
        boolean sasl = code == ProtocolCodes.AUTH_SASL || code == ProtocolCodes.AUTH_SASL_CONTINUE
                || code == ProtocolCodes.AUTH_SASL_FINAL;
        if (code != ProtocolCodes.AUTH_OK && credentials instanceof BackendCredentials.Ping) {
            LOG.debugf("%s answered the ping with authentication request %d", conn, code);
            answeredPing(ctx);
            return;
        }
        if (code != ProtocolCodes.AUTH_OK && !sasl) {
            channelBinding.checkNonSaslRequest(); // before any password-equivalent leaves, as libpq's check_expected_areq
        }
        if (code != ProtocolCodes.AUTH_OK && credentials instanceof BackendCredentials.Relay relay) {
            relay.relay().onServerAuthRequest(ctx.channel(), m.retainedSlice(start, end - start));
            return;
        }
        ByteBuf out;
        switch (code) {
            case ProtocolCodes.AUTH_OK -> {
                boolean bound = scram != null && scram.channelBound();
                channelBinding.checkAuthenticated(bound);
                if (scram != null && scram.verified()) {
                    conn.saslMechanism = scram.mechanism();
                }
                state = State.READING_PARAMETERS;
                LOG.debugf("%s authenticated%s", conn, bound ? " (channel bound)" : "");
                return;
            }
            case ProtocolCodes.AUTH_CLEARTEXT -> {
                out = ctx.alloc().buffer();
                FrontendMessages.passwordMessage(out, password("password").getBytes(StandardCharsets.UTF_8));
            }
            case ProtocolCodes.AUTH_MD5 -> {
                byte[] salt = new byte[4];
                m.getBytes(start + 9, salt);
                String secret = credentials instanceof BackendCredentials.Md5Hash h ? h.md5Hash() : password("md5");
                out = ctx.alloc().buffer();
                FrontendMessages.passwordMessage(out, Md5Auth.response(secret, credentials.user(), salt));
            }
            case ProtocolCodes.AUTH_SASL -> {
                if (scram != null) {
                    throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "duplicate SASL authentication request");
                }
                List<String> mechanisms = new ArrayList<>(2);
                int i = start + 9;
                while (i < end && m.getByte(i) != 0) {
                    mechanisms.add(MessageReader.cstring(m, i, end));
                    i = MessageReader.skipCstring(m, i, end);
                }
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                ClientChannelBinding binding = channelBinding.choose(mechanisms, ssl != null,
                        () -> ChannelBinding.tlsServerEndPoint(serverCertificate(ssl)));
                if (credentials instanceof BackendCredentials.Password p) {
                    scram = ScramClient.withPassword(p.user(), p.password(), binding);
                } else if (credentials instanceof BackendCredentials.ScramKeys k) {
                    scram = ScramClient.withKeys(k.user(), k.clientKey(), k.serverKey(), binding);
                } else {
                    throw new AuthException(SqlState.INVALID_PASSWORD,
                            "no password or SCRAM keys for user \"" + credentials.user() + "\" to answer SCRAM-SHA-256");
                }
                LOG.debugf("%s SASL mechanism %s", conn, binding);
                out = ctx.alloc().buffer();
                FrontendMessages.saslInitialResponse(out, binding.mechanism(), scram.clientFirstMessage());
            }
            case ProtocolCodes.AUTH_SASL_CONTINUE -> {
                requireScram();
                byte[] data = new byte[end - start - 9];
                m.getBytes(start + 9, data);
                out = ctx.alloc().buffer();
                FrontendMessages.saslResponse(out, scram.handleServerFirst(data));
            }
            case ProtocolCodes.AUTH_SASL_FINAL -> {
                requireScram();
                byte[] data = new byte[end - start - 9];
                m.getBytes(start + 9, data);
                scram.verifyServerFinal(data);
                return;
            }
            default -> throw new AuthException(SqlState.FEATURE_NOT_SUPPORTED,
                    "server requested unsupported authentication method " + code);
        }
        ctx.writeAndFlush(out);
    }

    /** The server's own certificate (the first of its chain) on this TLS connection. */
    private static X509Certificate serverCertificate(SslHandler ssl) {
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate x509) {
                return x509;
            }
            throw new IllegalStateException("the server presented no X.509 certificate");
        } catch (SSLPeerUnverifiedException e) {
            throw new IllegalStateException("the server presented no certificate", e);
        }
    }

    private void requireScram() throws ProtocolException {
        if (scram == null) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "SASL message before SASL started");
        }
    }

    private String password(String method) throws AuthException {
        if (credentials instanceof BackendCredentials.Password p) {
            return p.password();
        }
        throw new AuthException(SqlState.INVALID_PASSWORD,
                "no password for user \"" + credentials.user() + "\" to answer " + method + " authentication");
    }

    /** The server answered a {@link BackendCredentials.Ping}: it is up; the connection has served its purpose. */
    private void answeredPing(ChannelHandlerContext ctx) {
        state = State.READY;
        conn.markBroken(); // before the promise's listeners run: they tell an answered ping from a login by it
        promise.trySuccess(conn);
        ctx.close();
    }

    private void fail(ChannelHandlerContext ctx, BackendException e) {
        state = State.FAILED;
        promise.tryFailure(e);
        conn.markBroken();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        frames.release();
        if (state != State.READY) {
            state = State.FAILED;
        }
        promise.tryFailure(new BackendException(SqlState.CONNECTION_FAILURE,
                "server closed the connection during startup", false, null));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, new BackendException(SqlState.CONNECTION_FAILURE, "server connection failed: " + cause.getMessage(),
                false, cause));
    }
}
