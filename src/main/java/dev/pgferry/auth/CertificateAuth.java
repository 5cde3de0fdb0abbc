package dev.pgferry.auth;

import dev.pgferry.auth.hba.HbaMethod;
import dev.pgferry.auth.hba.HbaRule.ClientCert;
import java.security.cert.X509Certificate;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * What one login asks of the client's TLS certificate, checked as PostgreSQL 15's {@code ClientAuthentication} and
 * {@code CheckCertAuth} (auth.c) check it. The TLS handshake has already refused a certificate that
 * {@code pgferry.tls.client.ca-file} does not verify, so a certificate here is a valid one.
 *
 * <ol>
 * <li>{@link #beforeExchange}: before anything is asked of the client, a line with {@code clientcert} (every
 * {@code cert} line has it) wants a CA file and a certificate.</li>
 * <li>{@link #afterExchange}: once the line's method is satisfied, {@code cert} and {@code clientcert=verify-full}
 * want the certificate's CN to be the user; a mismatch fails as the method fails ({@code auth_failed}): a password
 * line says the password failed, though the password was right.</li>
 * </ol>
 */
public final class CertificateAuth {
    private final HbaMethod method;
    private final ClientCert clientCert;
    private final X509Certificate peer;
    private final boolean caLoaded;

    private CertificateAuth(HbaMethod method, ClientCert clientCert, X509Certificate peer, boolean caLoaded) {
        this.method = method;
        this.clientCert = clientCert;
        this.peer = peer;
        this.caLoaded = caLoaded;
    }

    /**
     * The checks for a login by {@code method} with {@code clientCert}, or null when there are none ({@code OFF}).
     * {@code peer} is the client's verified certificate, null without one; {@code caLoaded} whether
     * {@code pgferry.tls.client.ca-file} is set.
     */
    public static CertificateAuth of(HbaMethod method, ClientCert clientCert, X509Certificate peer, boolean caLoaded) {
        return clientCert == ClientCert.OFF ? null : new CertificateAuth(method, clientCert, peer, caLoaded);
    }

    /** PostgreSQL's checks of the line's {@code clientcert} before the method runs. */
    public void beforeExchange() throws AuthException {
        if (!caLoaded) {
            // PostgreSQL: no ssl_ca_file, so no certificate was asked for, and none can be checked
            throw new AuthException(AuthException.CONFIG_FILE_ERROR,
                    "client certificates can only be checked if a root certificate store is available");
        }
        if (peer == null) {
            throw new AuthException(AuthException.INVALID_AUTHORIZATION_SPECIFICATION,
                    "connection requires a valid client certificate");
        }
    }

    /** CheckCertAuth after the method succeeded: the CN must be {@code user} for cert and verify-full lines. */
    public void afterExchange(String user) throws AuthException {
        if (method != HbaMethod.CERT && clientCert != ClientCert.VERIFY_FULL) {
            return;
        }
        String cn = commonName(peer);
        if (cn != null && cn.indexOf('\0') >= 0) {
            // be_tls_open_server refuses it so, before any line is read; pgferry looks only when a line asks
            throw new AuthException(AuthException.PROTOCOL_VIOLATION,
                    "SSL certificate's common name contains embedded null");
        }
        if (!user.equals(cn)) {
            throw failed(user);
        }
    }

    /** {@code auth_failed}'s words for the method: the client learns nothing of the certificate. */
    private AuthException failed(String user) {
        return switch (method) {
            case CERT -> new AuthException(AuthException.INVALID_AUTHORIZATION_SPECIFICATION,
                    "certificate authentication failed for user \"" + user + "\"");
            case TRUST -> new AuthException(AuthException.INVALID_AUTHORIZATION_SPECIFICATION,
                    "\"trust\" authentication failed for user \"" + user + "\"");
            case MD5, SCRAM_SHA_256, PASSWORD -> AuthException.passwordFailed(user);
            case REJECT -> throw new IllegalStateException("a reject line admits no one");
        };
    }

    /**
     * The certificate's first CN in the order the subject holds them, as OpenSSL's {@code X509_NAME_get_text_by_NID}
     * finds it for PostgreSQL's {@code peer_cn}; null when it has none.
     */
    static String commonName(X509Certificate cert) {
        try {
            // RFC 2253 writes the subject's RDNs last first; LdapName numbers them back in the subject's order
            LdapName name = new LdapName(cert.getSubjectX500Principal().getName(X500Principal.RFC2253));
            for (Rdn rdn : name.getRdns()) {
                Attribute cn = rdn.toAttributes().get("CN");
                if (cn != null) {
                    NamingEnumeration<?> values = cn.getAll();
                    return values.hasMore() ? String.valueOf(values.next()) : null;
                }
            }
            return null;
        } catch (NamingException e) {
            return null;
        }
    }
}
