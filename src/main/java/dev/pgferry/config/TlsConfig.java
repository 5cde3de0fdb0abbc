package dev.pgferry.config;

import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

/** {@code pgferry.tls.*}: TLS towards clients (onboarding) and towards PostgreSQL; part of {@link PgferryConfig}. */
public interface TlsConfig {
    /** The client side: what pgferry accepts from clients. */
    ClientTls client();

    /** The server side: how pgferry connects to PostgreSQL. */
    ServerTls server();

    interface ServerTls {
        /** {@code disable}, {@code prefer} (TLS if the server offers it), {@code require}, {@code verify-ca}, {@code verify-full}. */
        @WithDefault("disable")
        ServerTlsMode mode();

        /** PEM CA certificates trusted for verify-ca and verify-full. */
        Optional<Path> caFile();
    }

    enum ServerTlsMode {
        DISABLE,
        PREFER,
        REQUIRE,
        VERIFY_CA,
        VERIFY_FULL
    }

    interface ClientTls {
        /**
         * {@code disable}: answer SSLRequest with 'N'; {@code allow}/{@code prefer}: TLS when asked; {@code require}:
         * refuse plaintext. Only on TCP: clients on the Unix socket ({@code pgferry.unix-socket-dir}) get 'N' and are
         * never refused for it, as PostgreSQL's {@code local} connections.
         */
        @WithDefault("disable")
        ClientTlsMode mode();

        /** PEM certificate chain presented to clients. */
        Optional<Path> certFile();

        /** PEM private key (PKCS#8) of that certificate. */
        Optional<Path> keyFile();

        /**
         * PEM CA certificates that verify client certificates (PostgreSQL's {@code ssl_ca_file}, PgBouncer's
         * {@code client_tls_ca_file}). Set, a TLS client is asked for a certificate; one it sends that does not verify
         * fails the handshake, one it does not send is asked for only by an HBA {@code cert} line, a
         * {@code clientcert=} option or {@code pgferry.auth.type=cert}.
         */
        Optional<Path> caFile();
    }

    enum ClientTlsMode {
        DISABLE,
        ALLOW,
        PREFER,
        REQUIRE
    }
}
