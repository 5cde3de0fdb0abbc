package dev.pgferry.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Locale;

/** {@code tls-server-end-point} channel-binding data (RFC 5929 §4.1), as PostgreSQL computes it. */
public final class ChannelBinding {
    private ChannelBinding() {}

    /** The hash of the server certificate with its signature's hash algorithm; MD5 and SHA-1 become SHA-256. */
    public static byte[] tlsServerEndPoint(X509Certificate cert) {
        String sig = cert.getSigAlgName().toUpperCase(Locale.ROOT);
        String algorithm = sig.startsWith("SHA384") ? "SHA-384" : sig.startsWith("SHA512") ? "SHA-512" : "SHA-256";
        try {
            return MessageDigest.getInstance(algorithm).digest(cert.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot compute tls-server-end-point: " + e.getMessage(), e);
        }
    }
}
