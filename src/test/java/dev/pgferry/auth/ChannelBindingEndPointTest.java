package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * tls-server-end-point hashes the certificate with its signature's hash (RFC 5929 §4.1), as PostgreSQL does:
 * certificates made by openssl with each kind of signature.
 */
class ChannelBindingEndPointTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "RSA, SHA-256             | rsa:2048 | -sha256 |                                                    | SHA-256",
        "RSA, SHA-384             | rsa:2048 | -sha384 |                                                    | SHA-384",
        "RSA, SHA-512             | rsa:2048 | -sha512 |                                                    | SHA-512",
        "RSA, SHA-1 → SHA-256     | rsa:2048 | -sha1   |                                                    | SHA-256",
        "RSASSA-PSS, SHA-384      | rsa:2048 | -sha384 | -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 | SHA-384",
        "RSASSA-PSS, SHA-512      | rsa:2048 | -sha512 | -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 | SHA-512",
        "ECDSA P-384, SHA-384     | ec -pkeyopt ec_paramgen_curve:P-384 | -sha384 |                      | SHA-384",
        "Ed25519 (no hash) → SHA-256 | ed25519 |        |                                                    | SHA-256",
    })
    void theCertificateIsHashedWithItsSignaturesHash(String name, String key, String digest, String sigopts,
            String expected) throws Exception {
        X509Certificate cert = make(key, digest, sigopts);
        assertThat(ChannelBinding.endPointHash(cert)).as(cert.getSigAlgName()).isEqualTo(expected);
        assertThat(ChannelBinding.tlsServerEndPoint(cert))
                .isEqualTo(MessageDigest.getInstance(expected).digest(cert.getEncoded()));
    }

    private X509Certificate make(String key, String digest, String sigopts) throws Exception {
        Path certFile = dir.resolve("cert.pem");
        List<String> cmd = new ArrayList<>(List.of("openssl", "req", "-x509", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-keyout", dir.resolve("key.pem").toString(), "-out", certFile.toString()));
        String[] k = key.split(" ");
        cmd.add("-newkey");
        cmd.add(k[0]);
        for (int i = 1; i < k.length; i++) {
            cmd.add(k[i]);
        }
        if (digest != null) {
            cmd.add(digest);
        }
        if (sigopts != null) {
            cmd.addAll(List.of(sigopts.split(" ")));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(String.join(" ", cmd) + "\n" + out).isTrue();
        try (InputStream in = Files.newInputStream(certFile)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
