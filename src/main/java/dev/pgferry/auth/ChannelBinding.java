package dev.pgferry.auth;

import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.Locale;

/** {@code tls-server-end-point} channel-binding data (RFC 5929 §4.1), as PostgreSQL computes it. */
public final class ChannelBinding {
    private ChannelBinding() {}

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

    /**
     * The hash of the server certificate with its signature's hash algorithm; MD5 and SHA-1 become SHA-256. For
     * RSASSA-PSS the hash is the one in the signature's parameters, as OpenSSL's {@code X509_get_signature_info}
     * gives PostgreSQL. Signatures without a separate hash (Ed25519), for which PostgreSQL offers no binding,
     * get SHA-256.
     */
    public static byte[] tlsServerEndPoint(X509Certificate cert) {
        try {
            return MessageDigest.getInstance(endPointHash(cert)).digest(cert.getEncoded());
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot compute tls-server-end-point: " + e.getMessage(), e);
        }
    }

    /** The JCA name of the digest {@link #tlsServerEndPoint} uses for {@code cert}. */
    static String endPointHash(X509Certificate cert) {
        String sig = cert.getSigAlgName().toUpperCase(Locale.ROOT);
        String digest;
        if (sig.equals("RSASSA-PSS")) {
            digest = pssDigest(cert.getSigAlgParams());
        } else {
            int with = sig.indexOf("WITH");
            digest = with > 0 ? sig.substring(0, with) : "";
        }
        return switch (digest.replace("-", "")) {
            case "SHA384" -> "SHA-384";
            case "SHA512" -> "SHA-512";
            default -> "SHA-256";
        };
    }

    /** The digest named in DER-encoded RSASSA-PSS parameters (RFC 4055); SHA-1, their default, when absent. */
    private static String pssDigest(byte[] params) {
        if (params == null) {
            return "SHA-1";
        }
        try {
            AlgorithmParameters p = AlgorithmParameters.getInstance("RSASSA-PSS");
            p.init(params);
            return p.getParameterSpec(PSSParameterSpec.class).getDigestAlgorithm().toUpperCase(Locale.ROOT);
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot read the certificate's RSASSA-PSS parameters: " + e.getMessage(), e);
        }
    }
}
