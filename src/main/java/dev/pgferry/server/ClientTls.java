package dev.pgferry.server;

import dev.pgferry.config.PgferryConfig;
import dev.pgferry.config.TlsConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * Builds the server-side TLS context for clients from {@code pgferry.tls.client.*}: TLS 1.2+, ALPN "postgresql".
 * With a {@code ca-file}, clients are asked for a certificate as PostgreSQL asks when {@code ssl_ca_file} is set
 * ({@code be-secure-openssl.c}: SSL_VERIFY_PEER without SSL_VERIFY_FAIL_IF_NO_PEER_CERT): one that does not verify
 * against the file fails the handshake, none at all is the HBA line's business.
 */
final class ClientTls {
    private ClientTls() {}

    /** Null when client TLS is disabled; a clear error naming the key when it is misconfigured. */
    static SslContext context(TlsConfig.ClientTls cfg) {
        if (cfg.mode() == TlsConfig.ClientTlsMode.DISABLE) {
            return null;
        }
        Path cert = cfg.certFile().orElseThrow(() -> new IllegalStateException(
                "pgferry.tls.client.cert-file is required when pgferry.tls.client.mode=" + cfg.mode().name().toLowerCase()));
        Path key = cfg.keyFile().orElseThrow(() -> new IllegalStateException(
                "pgferry.tls.client.key-file is required when pgferry.tls.client.mode=" + cfg.mode().name().toLowerCase()));
        SslContextBuilder builder;
        try {
            builder = SslContextBuilder.forServer(cert.toFile(), key.toFile());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("pgferry.tls.client.cert-file/key-file: cannot load " + cert + " / " + key
                    + ": " + e.getMessage(), e);
        }
        Optional<Path> ca = cfg.caFile();
        if (ca.isPresent()) {
            try {
                builder.trustManager(ca.get().toFile()).clientAuth(ClientAuth.OPTIONAL);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("pgferry.tls.client.ca-file: cannot load " + ca.get() + ": "
                        + e.getMessage(), e);
            }
        }
        try {
            return builder.sslProvider(SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "postgresql"))
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("pgferry.tls.client.cert-file/key-file" + (ca.isPresent() ? "/ca-file" : "")
                    + ": cannot load " + cert + " / " + key + ca.map(p -> " / " + p).orElse("") + ": " + e.getMessage(),
                    e);
        }
    }

    /**
     * PgBouncer's start-up check for {@code auth_type=cert}: without TLS and a CA file no certificate can be asked
     * for, and no client could ever log in.
     */
    static void checkCertAuth(PgferryConfig config) {
        if (config.auth().type() != PgferryConfig.AuthType.CERT) {
            return;
        }
        if (config.tls().client().mode() == TlsConfig.ClientTlsMode.DISABLE || config.tls().client().caFile().isEmpty()) {
            throw new IllegalStateException("pgferry.auth.type=cert requires pgferry.tls.client.mode (not disable) and"
                    + " pgferry.tls.client.ca-file");
        }
    }
}
