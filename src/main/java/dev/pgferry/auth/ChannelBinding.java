package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Locale;

/** {@code tls-server-end-point} channel-binding data (RFC 5929 §4.1), as PostgreSQL computes it. */
public final class ChannelBinding {
    private ChannelBinding() {}

    /** The hash of the server certificate with its signature's hash algorithm; MD5 and SHA-1 become SHA-256. */
    /**
     * RFC 5802 §7 {@code cbind-input}: the gs2 header followed by the channel-binding data (none without
     * binding). Its base64 is the {@code c=} attribute of the client-final-message, on both sides of SCRAM.
     */
    public static byte[] cbindInput(String gs2Header, byte[] data) {
        byte[] header = gs2Header.getBytes(StandardCharsets.UTF_8);
        byte[] all = Arrays.copyOf(header, header.length + data.length);
        System.arraycopy(data, 0, all, header.length, data.length);
        return all;
    }

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
