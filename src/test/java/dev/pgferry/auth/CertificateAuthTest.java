package dev.pgferry.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.auth.hba.HbaMethod;
import dev.pgferry.auth.hba.HbaRule.ClientCert;
import dev.pgferry.testing.CertificateAuthority;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PostgreSQL 15's ClientAuthentication and CheckCertAuth checks, on certificates made with openssl. */
class CertificateAuthTest {
    @TempDir
    static Path dir;
    static X509Certificate alice;
    static X509Certificate twoCns;
    static X509Certificate noCn;

    @BeforeAll
    static void certificates() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create(dir, "ca");
        alice = read(ca.client("alice", "/C=FR/O=Example, Inc./OU=dev+UID=7/CN=alice"));
        twoCns = read(ca.client("two", "/CN=first/CN=second"));
        noCn = read(ca.client("none", "/O=nobody"));
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void theCnIsTheFirstOneOfTheSubjectAsOpensslFindsIt() {
        assertThat(CertificateAuth.commonName(alice)).isEqualTo("alice");
        assertThat(CertificateAuth.commonName(twoCns)).isEqualTo("first");
        assertThat(CertificateAuth.commonName(noCn)).isNull();
    }

    @Test
    void noClientcertChecksNothing() {
        assertThat(CertificateAuth.of(HbaMethod.MD5, ClientCert.OFF, null, true)).isNull();
    }

    @Test
    void aClientcertLineWantsACaFileAndACertificateBeforeItsMethod() {
        assertThatThrownBy(() -> CertificateAuth.of(HbaMethod.CERT, ClientCert.VERIFY_FULL, alice, false)
                .beforeExchange()).isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("F0000");
                    assertThat(e.getMessage())
                            .isEqualTo("client certificates can only be checked if a root certificate store is available");
                });
        assertThatThrownBy(() -> CertificateAuth.of(HbaMethod.SCRAM_SHA_256, ClientCert.VERIFY_CA, null, true)
                .beforeExchange()).isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("28000");
                    assertThat(e.getMessage()).isEqualTo("connection requires a valid client certificate");
                });
        assertThatCode(() -> CertificateAuth.of(HbaMethod.CERT, ClientCert.VERIFY_FULL, alice, true).beforeExchange())
                .doesNotThrowAnyException();
    }

    @Test
    void theCnMustBeTheUserForCertAndVerifyFullAndAMismatchFailsAsTheMethod() throws Exception {
        CertificateAuth.of(HbaMethod.CERT, ClientCert.VERIFY_FULL, alice, true).afterExchange("alice");
        CertificateAuth.of(HbaMethod.MD5, ClientCert.VERIFY_CA, alice, true).afterExchange("bob");
        assertRefused(HbaMethod.CERT, alice, "28000", "certificate authentication failed for user \"bob\"");
        assertRefused(HbaMethod.CERT, noCn, "28000", "certificate authentication failed for user \"bob\"");
        assertRefused(HbaMethod.TRUST, alice, "28000", "\"trust\" authentication failed for user \"bob\"");
        assertRefused(HbaMethod.SCRAM_SHA_256, alice, "28P01", "password authentication failed for user \"bob\"");
        assertRefused(HbaMethod.MD5, alice, "28P01", "password authentication failed for user \"bob\"");
        assertRefused(HbaMethod.PASSWORD, alice, "28P01", "password authentication failed for user \"bob\"");
    }

    @Test
    void namesCompareExactly() {
        assertRefused(HbaMethod.CERT, alice, "28000", "certificate authentication failed for user \"Alice\"", "Alice");
    }

    private static void assertRefused(HbaMethod method, X509Certificate cert, String sqlState, String message) {
        assertRefused(method, cert, sqlState, message, "bob");
    }

    private static void assertRefused(HbaMethod method, X509Certificate cert, String sqlState, String message,
            String user) {
        assertThatThrownBy(() -> CertificateAuth.of(method, ClientCert.VERIFY_FULL, cert, true).afterExchange(user))
                .isInstanceOfSatisfying(AuthException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo(sqlState);
                    assertThat(e.getMessage()).isEqualTo(message);
                });
    }
}
