package dev.pgferry.session;

import dev.pgferry.protocol.EncryptionNegotiation;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import org.jboss.logging.Logger;

/**
 * The first step of a login: SSLRequest and GSSENCRequest answered, or a direct TLS handshake (PostgreSQL 17)
 * taken. A client on the Unix-domain socket gets no TLS, as from PostgreSQL (SSLRequest 'N', see its
 * {@code ProcessStartupPacket}).
 */
final class LoginEncryption {
    private static final Logger LOG = Logger.getLogger(LoginHandler.class);
    /** PostgreSQL's DETAIL for data that came ahead of an encryption request's answer (ProcessStartupPacket). */
    private static final String MAN_IN_THE_MIDDLE =
            "This could be either a client-software bug or evidence of an attempted man-in-the-middle attack.";

    private final SessionContext sc;
    private final String id;
    private final EncryptionNegotiation negotiation = new EncryptionNegotiation();
    private ChannelHandlerContext ctx;
    private boolean tlsActive;
    /** On the Unix-domain socket: no TLS there, as PostgreSQL's {@code local} connections. */
    private boolean unixSocket;

    LoginEncryption(SessionContext sc, String id) {
        this.sc = sc;
        this.id = id;
    }

    void connected(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.unixSocket = ctx.channel() instanceof io.netty.channel.unix.DomainSocketChannel;
    }

    EncryptionNegotiation negotiation() {
        return negotiation;
    }

    boolean tlsActive() {
        return tlsActive;
    }

    boolean unixSocket() {
        return unixSocket;
    }

    /**
     * Direct TLS (PostgreSQL 17): a TLS ClientHello instead of SSLRequest; ALPN "postgresql" is offered. True when
     * {@code acc} starts one: TLS is then started, and the caller passes the hello on to it.
     */
    boolean directTls(ByteBuf acc) {
        if (!tlsActive && negotiation.sslRequestOpen() && sc.clientTls != null && !unixSocket
                && acc.getByte(acc.readerIndex()) == 0x16) {
            LOG.debugf("%s direct TLS handshake", id);
            negotiation.directTls();
            startTls();
            return true;
        }
        return false;
    }

    /** Refuses a StartupMessage sent in the clear over TCP when {@code pgferry.tls.client.mode=require}. */
    void refuseUnencrypted() throws ProtocolException {
        if (!tlsActive && !unixSocket
                && sc.config.tls().client().mode() == dev.pgferry.config.TlsConfig.ClientTlsMode.REQUIRE) {
            throw new ProtocolException(SqlState.INVALID_AUTHORIZATION,
                    "SSL required: pgferry.tls.client.mode=require refuses unencrypted connections");
        }
    }

    /** Answers an SSLRequest; {@code acc} holds what the client sent after it. */
    void onSslRequest(ByteBuf acc) throws ProtocolException {
        if (sc.clientTls == null || unixSocket) {
            LOG.debugf("%s SSLRequest: N%s", id, unixSocket ? " (Unix socket)" : "");
            negotiation.sslAnswered(false);
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
            refuseDataSentAhead(acc, "SSL request");
            return;
        }
        if (acc.isReadable()) {
            // Bytes sent before the handshake would be read as if they came over TLS (CVE-2021-23214).
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request",
                    MAN_IN_THE_MIDDLE);
        }
        LOG.debugf("%s SSLRequest: S, TLS handshake", id);
        negotiation.sslAnswered(true);
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'));
        startTls();
    }

    /** Answers a GSSENCRequest: pgferry has no GSSAPI. */
    void onGssEncRequest(ByteBuf acc) throws ProtocolException {
        LOG.debugf("%s GSSENCRequest: N", id);
        negotiation.gssEncAnswered(false);
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
        refuseDataSentAhead(acc, "GSSAPI encryption request");
    }

    /**
     * After answering an SSLRequest or GSSENCRequest with 'N': bytes the client sent before reading that answer are
     * refused as PostgreSQL refuses them (ProcessStartupPacket, FATAL 08P01 after the 'N'), since whoever sent them
     * could not know the answer; a man in the middle may have put them there.
     */
    private static void refuseDataSentAhead(ByteBuf acc, String request) throws ProtocolException {
        if (acc.isReadable()) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after " + request,
                    MAN_IN_THE_MIDDLE);
        }
    }

    private void startTls() {
        tlsActive = true;
        ctx.pipeline().addFirst("tls", sc.clientTls.newHandler(ctx.alloc()));
    }

    /** tls-server-end-point data of this connection's certificate, or null without TLS. */
    byte[] channelBinding() {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (tls == null) {
            return null;
        }
        Certificate[] certs = tls.engine().getSession().getLocalCertificates();
        if (certs == null || certs.length == 0 || !(certs[0] instanceof X509Certificate x509)) {
            return null;
        }
        return dev.pgferry.auth.ChannelBinding.tlsServerEndPoint(x509);
    }

    /** The client's certificate, which the handshake verified against the CA file; null without one. */
    X509Certificate peerCertificate() {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        try {
            return tls != null && tls.engine().getSession().getPeerCertificates()[0]
                    instanceof X509Certificate x509 ? x509 : null;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return null; // it sent none
        }
    }
}
