package dev.pgferry.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.CertificateAuthority;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * Client certificates as PostgreSQL 15 takes them, through psql ({@code sslcert}/{@code sslkey}) and pgjdbc: a CA
 * file verifies them at the handshake, an HBA {@code cert} line logs the user named by the CN in without a password,
 * {@code clientcert=verify-ca|verify-full} adds a certificate to a line's method. Every refusal below is what a
 * PostgreSQL 15 server with {@code ssl_ca_file} and the same lines answered the same clients (checked by hand with
 * the same certificates: the words, and the SQLSTATE of {@code auth_failed} for the line's method).
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ClientCertificateAuthTest.WithClientCertificates.class)
class ClientCertificateAuthTest {
    static final Path DIR = tempDir();

    static final String RULES = """
            # TYPE   DATABASE  USER      ADDRESS        METHOD
            hostssl  postgres  scram_u   127.0.0.1/32   cert
            hostssl  bench     scram_u   127.0.0.1/32   scram-sha-256  clientcert=verify-full
            hostssl  postgres  md5_u     127.0.0.1/32   md5            clientcert=verify-ca
            hostssl  bench     md5_u     127.0.0.1/32   trust          clientcert=verify-full
            host     all       postgres  127.0.0.1/32   trust
            """;

    public static class WithClientCertificates implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            makeCertificates();
            return Map.of("pgferry.tls.client.mode", "prefer",
                    "pgferry.tls.client.cert-file", DIR.resolve("server.pem").toString(),
                    "pgferry.tls.client.key-file", DIR.resolve("server.key").toString(),
                    "pgferry.tls.client.ca-file", DIR.resolve("trusted.pem").toString(),
                    "pgferry.auth.hba-file", DIR.resolve("hba.conf").toString());
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("pgferry-client-certs");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static synchronized void makeCertificates() {
        if (Files.exists(DIR.resolve("hba.conf"))) {
            return;
        }
        try {
            CertificateAuthority trusted = CertificateAuthority.create(DIR, "trusted");
            trusted.server("server");
            trusted.client("scram_u", "/CN=scram_u");
            trusted.client("md5_u", "/O=pgferry/CN=md5_u");
            trusted.client("other", "/CN=other");
            // the right name, signed by a CA pgferry does not trust
            CertificateAuthority.create(DIR, "untrusted").client("stranger", "/CN=scram_u");
            Files.writeString(DIR.resolve("hba.conf"), RULES);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    /** pgjdbc over TLS verifying pgferry's certificate, with client certificate {@code cert} (null: none). */
    private Connection jdbc(String user, String password, String database, String cert) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("sslmode", "verify-full");
        p.setProperty("sslrootcert", DIR.resolve("trusted.pem").toString());
        if (cert != null) { // else pgjdbc's default, ~/.postgresql/postgresql.crt: none here
            p.setProperty("sslcert", DIR.resolve(cert + ".pem").toString());
            p.setProperty("sslkey", DIR.resolve(cert + ".pk8").toString());
        }
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "30");
        Connection c = new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
        assertThat(c).isNotNull();
        return c;
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private void assertJdbcIn(String user, String password, String database, String cert) throws SQLException {
        try (Connection c = jdbc(user, password, database, cert)) {
            assertThat(currentUser(c)).isEqualTo(user);
        }
    }

    private void assertJdbcRefused(String user, String password, String database, String cert, String sqlState,
            String message) {
        assertThatThrownBy(() -> jdbc(user, password, database, cert).close())
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getServerErrorMessage()).as("a FATAL from the server, not a local failure: %s", e)
                            .isNotNull();
                    assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
                    assertThat(e.getServerErrorMessage().getMessage()).isEqualTo(message);
                    assertThat(e.getSQLState()).isEqualTo(sqlState);
                });
    }

    /** psql with sslmode=require and the client certificate {@code cert} (null: none), the password in PGPASSWORD. */
    private ClientProgram.Result psql(String user, String password, String database, String cert)
            throws IOException, InterruptedException {
        List<String> conninfo = new ArrayList<>(List.of("host=127.0.0.1", "port=" + port, "user=" + user,
                "dbname=" + database, "sslmode=require"));
        if (cert != null) {
            conninfo.add("sslcert=" + DIR.resolve(cert + ".pem"));
            conninfo.add("sslkey=" + DIR.resolve(cert + ".key"));
        }
        return ClientProgram.run(List.of("/usr/bin/psql", "-X", "-w", "-At", "-c", "select current_user",
                String.join(" ", conninfo)), password == null ? "" : password, Map.of(), 60);
    }

    private static final String NO_CERTIFICATE = "connection requires a valid client certificate";

    // --- cert lines ---

    @Test
    void aCertLineLogsInTheUserTheCnNamesWithoutAPassword() throws Exception {
        assertJdbcIn("scram_u", null, "postgres", "scram_u");
        ClientProgram.Result r = psql("scram_u", null, "postgres", "scram_u");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("scram_u");
    }

    @Test
    void aCertLineRefusesACertificateForAnotherUser() throws Exception {
        String message = "certificate authentication failed for user \"scram_u\"";
        assertJdbcRefused("scram_u", "scram_pw", "postgres", "other", "28000", message);
        ClientProgram.Result r = psql("scram_u", "scram_pw", "postgres", "other");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("FATAL:  " + message);
    }

    @Test
    void aCertLineRefusesAClientWithoutACertificate() throws Exception {
        assertJdbcRefused("scram_u", "scram_pw", "postgres", null, "28000", NO_CERTIFICATE);
        ClientProgram.Result r = psql("scram_u", "scram_pw", "postgres", null);
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("FATAL:  " + NO_CERTIFICATE);
    }

    /**
     * PostgreSQL fails the TLS handshake on a certificate its CA file does not verify (OpenSSL's verify failure,
     * psql: "SSL error: tlsv1 alert unknown ca"); so does pgferry, before any line is read. pgjdbc does not even send
     * it: its key manager offers a certificate only if an issuer the server names (the CA file's) signed it, so it
     * logs in without one, against PostgreSQL too.
     */
    @Test
    void aCertificateTheCaFileDoesNotVerifyFailsTheHandshake() throws Exception {
        assertJdbcRefused("scram_u", null, "postgres", "stranger", "28000", NO_CERTIFICATE);
        ClientProgram.Result r = psql("scram_u", null, "postgres", "stranger");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("SSL error").doesNotContain("FATAL");
        // on a line that asks for no certificate, too: a certificate sent is verified
        ClientProgram.Result trust = psql("postgres", null, "postgres", "stranger");
        assertThat(trust.exitCode()).isNotZero();
        assertThat(trust.stderr()).contains("SSL error");
        assertJdbcIn("postgres", null, "postgres", null);
    }

    // --- clientcert on other methods ---

    @Test
    void verifyFullOnAScramLineWantsThePasswordAndTheCn() throws Exception {
        assertJdbcIn("scram_u", "scram_pw", "bench", "scram_u");
        String failed = "password authentication failed for user \"scram_u\"";
        // the right password with another user's certificate fails as a wrong password, as PostgreSQL's auth_failed
        assertJdbcRefused("scram_u", "scram_pw", "bench", "other", "28P01", failed);
        assertJdbcRefused("scram_u", "wrong", "bench", "scram_u", "28P01", failed);
        assertJdbcRefused("scram_u", "scram_pw", "bench", null, "28000", NO_CERTIFICATE);
        ClientProgram.Result in = psql("scram_u", "scram_pw", "bench", "scram_u");
        assertThat(in.exitCode()).as(in.stderr()).isZero();
        ClientProgram.Result mismatch = psql("scram_u", "scram_pw", "bench", "other");
        assertThat(mismatch.stderr()).contains("FATAL:  " + failed);
    }

    @Test
    void verifyCaOnAnMd5LineWantsAValidCertificateOfAnyName() throws Exception {
        assertJdbcIn("md5_u", "md5_pw", "postgres", "other");
        assertJdbcIn("md5_u", "md5_pw", "postgres", "md5_u");
        assertJdbcRefused("md5_u", "md5_pw", "postgres", null, "28000", NO_CERTIFICATE);
        ClientProgram.Result r = psql("md5_u", "md5_pw", "postgres", "other");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("md5_u");
    }

    @Test
    void verifyFullOnATrustLineFailsAsTrustDoes() throws Exception {
        assertJdbcIn("md5_u", null, "bench", "md5_u");
        assertJdbcRefused("md5_u", null, "bench", "other", "28000",
                "\"trust\" authentication failed for user \"md5_u\"");
    }

    /** hostssl lines do not match plaintext: no line then, PostgreSQL's no-entry FATAL. */
    @Test
    void aPlaintextClientMatchesNoCertLine() {
        assertThatThrownBy(() -> {
            Properties p = new Properties();
            p.setProperty("user", "scram_u");
            p.setProperty("sslmode", "disable");
            new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p).close();
        }).isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getServerErrorMessage().getMessage())
                .isEqualTo("no pg_hba.conf entry for host \"127.0.0.1\", user \"scram_u\", database \"postgres\","
                        + " no encryption"));
    }
}
