package dev.pgferry.server;

import dev.pgferry.config.PgferryConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/** Builds the server-side TLS context for clients from {@code pgferry.tls.client.*}: TLS 1.2+, ALPN "postgresql". */
final class ClientTls {
    private ClientTls() {}

    /** Null when client TLS is disabled; a clear error naming the key when it is misconfigured. */
    static SslContext context(PgferryConfig.ClientTls cfg) {
        if (cfg.mode() == PgferryConfig.ClientTlsMode.DISABLE) {
            return null;
        }
        Path cert = cfg.certFile().orElseThrow(() -> new IllegalStateException(
                "pgferry.tls.client.cert-file is required when pgferry.tls.client.mode=" + cfg.mode().name().toLowerCase()));
        Path key = cfg.keyFile().orElseThrow(() -> new IllegalStateException(
                "pgferry.tls.client.key-file is required when pgferry.tls.client.mode=" + cfg.mode().name().toLowerCase()));
        try {
            return SslContextBuilder.forServer(cert.toFile(), key.toFile())
                    .sslProvider(SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "postgresql"))
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("pgferry.tls.client.cert-file/key-file: cannot load " + cert + " / " + key
                    + ": " + e.getMessage(), e);
        }
    }
}
