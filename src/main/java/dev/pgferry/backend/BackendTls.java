package dev.pgferry.backend;

import dev.pgferry.config.TlsConfig.ServerTlsMode;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * TLS towards PostgreSQL, as libpq's sslmode: {@code prefer}/{@code require} encrypt without checking the
 * certificate, {@code verify-ca} checks the chain against the CA file, {@code verify-full} also the host name.
 */
public final class BackendTls {
    private final ServerTlsMode mode;
    private final SslContext context;

    private BackendTls(ServerTlsMode mode, SslContext context) {
        this.mode = mode;
        this.context = context;
    }

    /** Null for {@code disable}; a clear error naming the key when misconfigured. */
    public static BackendTls of(ServerTlsMode mode, Optional<Path> caFile) {
        if (mode == ServerTlsMode.DISABLE) {
            return null;
        }
        try {
            SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2");
            if (mode == ServerTlsMode.VERIFY_CA || mode == ServerTlsMode.VERIFY_FULL) {
                Path ca = caFile.orElseThrow(() -> new IllegalStateException(
                        "pgferry.tls.server.ca-file is required when pgferry.tls.server.mode=" + mode.name().toLowerCase().replace('_', '-')));
                b.trustManager(ca.toFile());
            } else {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            }
            return new BackendTls(mode, b.build());
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("pgferry.tls.server.ca-file: " + e.getMessage(), e);
        }
    }

    /** Whether a server that answers 'N' to SSLRequest may still be used in plaintext. */
    boolean plaintextAllowed() {
        return mode == ServerTlsMode.PREFER;
    }

    ServerTlsMode mode() {
        return mode;
    }

    SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        SslHandler h = context.newHandler(alloc, host, port);
        if (mode == ServerTlsMode.VERIFY_FULL) {
            SSLParameters p = h.engine().getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            h.engine().setSSLParameters(p);
        }
        return h;
    }
}
