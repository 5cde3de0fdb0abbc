package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.WireBytes;
import dev.pgferry.server.UnixSocketFile;
import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.SelfSignedCertificate;
import dev.pgferry.testing.SocketDirectory;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

/**
 * pgferry.auth.hba-file ({@link HbaFileResource#RULES}) decides each connection: by its line the client is trusted,
 * asked for SCRAM, MD5 or a password, or refused with PostgreSQL 15's FATAL 28000; TLS (pgferry.tls.client.mode
 * prefer) and the Unix socket select hostssl and local lines; RELOAD takes a changed file and refuses a broken one.
 */
@QuarkusTest
@WithTestResource(HbaFileResource.class)
@TestProfile(HbaFileTest.WithTlsAndASocket.class)
class HbaFileTest {

    public static class WithTlsAndASocket implements QuarkusTestProfile {
        static final Path CERTS = certificates();
        static final String SOCKET_DIR = SocketDirectory.create().toString();

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.tls.client.mode", "prefer",
                    "pgferry.tls.client.cert-file", CERTS.resolve("cert.pem").toString(),
                    "pgferry.tls.client.key-file", CERTS.resolve("key.pem").toString(),
                    "pgferry.unix-socket-dir", SOCKET_DIR);
        }

        private static Path certificates() {
            try {
                Path dir = Files.createTempDirectory("pgferry-hba-tls");
                SelfSignedCertificate.write(dir.resolve("key.pem"), dir.resolve("cert.pem"));
                return dir;
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ConfigProperty(name = "pgferry.unix-socket-dir")
    String socketDir;

    @ConfigProperty(name = "pgferry.tls.client.cert-file")
    String certFile;

    private RawClient startup(String user, String database) throws IOException {
        RawClient c = RawClient.connect(port);
        c.send(WireBytes.startupMessage(ProtocolCodes.PROTOCOL_3_0, "user", user, "database", database));
        return c;
    }

    private static String noEntry(String user, String database, String encryption) {
        return "no pg_hba.conf entry for host \"127.0.0.1\", user \"" + user + "\", database \"" + database + "\", "
                + encryption;
    }

    private static String rejects(String host, String user, String database, String encryption) {
        return "pg_hba.conf rejects connection for host \"" + host + "\", user \"" + user + "\", database \""
                + database + "\", " + encryption;
    }

    private static void assertPgjdbcRefused(ThrowingLogin login, String message) {
        assertThatThrownBy(login::run).isInstanceOfSatisfying(PSQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getServerErrorMessage().getSeverity()).isEqualTo("FATAL");
            assertThat(e.getServerErrorMessage().getMessage()).isEqualTo(message);
        });
    }

    interface ThrowingLogin {
        void run() throws Exception;
    }

    private Connection tls(String user, String password, String database) throws SQLException {
        return Clients.jdbc(port, user, password, database, Map.of("sslmode", "verify-full", "sslrootcert", certFile));
    }

    // --- host lines through pgjdbc ---

    @Test
    void aTrustLineLetsItsUserInWithoutAPassword() throws Exception {
        try (Connection c = Clients.jdbc(port, "postgres", null, "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("postgres");
        }
        try (RawClient c = startup("postgres", "bench")) {
            c.expectAuthenticationOk();
            c.readWelcome();
        }
    }

    @Test
    void aScramLineAsksForScram() throws Exception {
        try (Connection c = Clients.jdbc(port, "scram_u", "scram_pw", "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("scram_u");
        }
        try (RawClient c = startup("scram_u", "postgres")) {
            assertThat(c.expect('R').int32(0)).as("AuthenticationSASL").isEqualTo(ProtocolCodes.AUTH_SASL);
        }
        Clients.assertPgjdbcWrongPasswordRefused(port, "scram_u");
    }

    @Test
    void anMd5LineAsksAnMd5UserForMd5() throws Exception {
        try (RawClient c = startup("md5_u", "postgres")) {
            assertThat(c.expect('R').int32(0)).as("AuthenticationMD5Password").isEqualTo(ProtocolCodes.AUTH_MD5);
        }
        try (Connection c = Clients.jdbc(port, "md5_u", "md5_pw", "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("md5_u");
        }
    }

    /** PostgreSQL's CheckPWChallengeAuth: md5 with a SCRAM verifier, or for an unknown user, is SCRAM. */
    @Test
    void anMd5LineAsksForScramWhenTheSecretIsAScramVerifierOrThereIsNoUser() throws Exception {
        try (RawClient c = startup("scram_u", "bench")) {
            assertThat(c.expect('R').int32(0)).as("AuthenticationSASL").isEqualTo(ProtocolCodes.AUTH_SASL);
        }
        try (Connection c = Clients.jdbc(port, "scram_u", "scram_pw", "bench")) {
            assertThat(Clients.queryOne(c, "select current_user || '@' || current_database()"))
                    .isEqualTo("scram_u@bench");
        }
        try (RawClient c = startup("nobody", "postgres")) {
            assertThat(c.expect('R').int32(0)).as("AuthenticationSASL").isEqualTo(ProtocolCodes.AUTH_SASL);
        }
    }

    @Test
    void aRejectLineForADatabaseIsPostgresqlsFatal() throws Exception {
        String message = rejects("127.0.0.1", "md5_u", "bench", "no encryption");
        try (RawClient c = startup("md5_u", "bench")) {
            c.assertRefused("28000", message);
        }
        assertPgjdbcRefused(() -> Clients.jdbc(port, "md5_u", "md5_pw", "bench").close(), message);
    }

    @Test
    void noMatchingLineIsPostgresqlsFatal() throws Exception {
        try (RawClient c = startup("md5_u", "template1")) {
            c.assertRefused("28000", noEntry("md5_u", "template1", "no encryption"));
        }
        assertPgjdbcRefused(() -> Clients.jdbc(port, "scram_u", "scram_pw", "template1").close(),
                noEntry("scram_u", "template1", "no encryption"));
    }

    /** libpq's sslmode=prefer tries TLS, then plaintext after the FATAL, and psql prints both, as against PostgreSQL. */
    @Test
    void psqlShowsTheRefusalOfBothItsAttempts() throws Exception {
        ClientProgram.Result r = Clients.psql(port, "md5_u", "md5_pw", "bench", "select 1", Map.of());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("FATAL:  " + rejects("127.0.0.1", "md5_u", "bench", "SSL encryption"))
                .contains("FATAL:  " + rejects("127.0.0.1", "md5_u", "bench", "no encryption"));
    }

    // --- hostssl ---

    @Test
    void aHostsslLineDoesNotMatchAPlaintextClient() throws Exception {
        assertPgjdbcRefused(() -> Clients.jdbc(port, "plain_u", "plain_pw", "postgres").close(),
                noEntry("plain_u", "postgres", "no encryption"));
    }

    @Test
    void aHostsslLineMatchesATlsClient() throws Exception {
        try (Connection c = tls("plain_u", "plain_pw", "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("plain_u");
        }
        try (Connection c = tls("md5_u", "md5_pw", "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).as("a host line matches TLS too").isEqualTo("md5_u");
        }
        assertPgjdbcRefused(() -> tls("md5_u", "md5_pw", "template1").close(),
                noEntry("md5_u", "template1", "SSL encryption"));
    }

    // --- local lines on the Unix socket ---

    @Test
    @Timeout(60)
    void localLinesDecideForTheUnixSocket() throws Exception {
        ClientProgram.Result r = ClientProgram.run(List.of("/usr/bin/psql", "-X", "-w", "-At", "-h", socketDir, "-p",
                Integer.toString(port), "-U", "md5_u", "-d", "postgres", "-c", "select current_user"), "", Map.of(), 60);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("md5_u");

        Path socket = UnixSocketFile.path(socketDir, port);
        try (RawWireClient c = RawWireClient.connect(socket).timeout(10_000)) {
            c.send(RawWireClient.startupMessage("user", "scram_u", "database", "postgres"));
            RawWireClient.Msg error = c.read();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.field('S')).isEqualTo("FATAL");
            assertThat(error.field('C')).isEqualTo("28000");
            assertThat(error.field('M')).isEqualTo(rejects("[local]", "scram_u", "postgres", "no encryption"));
            assertThat(c.read()).isEqualTo(RawWireClient.Msg.EOF);
        }
        // a TCP client is never matched by a local line
        try (RawClient c = startup("md5_u", "postgres")) {
            assertThat(c.expect('R').int32(0)).isEqualTo(ProtocolCodes.AUTH_MD5);
        }
    }

    // --- RELOAD ---

    @Test
    void reloadTakesAChangedFileAndRefusesABrokenOne() throws Exception {
        try (Connection admin = Clients.jdbc(port, "postgres", null, "pgferry", Map.of("preferQueryMode", "simple"));
                Statement a = admin.createStatement()) {
            try {
                Files.writeString(HbaFileResource.FILE,
                        "host postgres scram_u 127.0.0.1/32 reject\n" + HbaFileResource.RULES);
                a.execute("RELOAD");
                assertThat(warnings(a)).anyMatch(w -> w.contains("reloaded " + HbaFileResource.FILE + ": 9 HBA lines"));
                assertPgjdbcRefused(() -> Clients.jdbc(port, "scram_u", "scram_pw", "postgres").close(),
                        rejects("127.0.0.1", "scram_u", "postgres", "no encryption"));

                Files.writeString(HbaFileResource.FILE, HbaFileResource.RULES + "host all all all ident\n");
                assertThatThrownBy(() -> a.execute("RELOAD")).isInstanceOfSatisfying(PSQLException.class, e ->
                        assertThat(e.getServerErrorMessage().getMessage()).startsWith(
                                "could not reload pgferry.auth.hba-file, its previous rules stay in force: "
                                        + HbaFileResource.FILE + ":10: authentication method \"ident\" is not supported"));
                assertPgjdbcRefused(() -> Clients.jdbc(port, "scram_u", "scram_pw", "postgres").close(),
                        rejects("127.0.0.1", "scram_u", "postgres", "no encryption"));
            } finally {
                Files.writeString(HbaFileResource.FILE, HbaFileResource.RULES);
                a.execute("RELOAD");
            }
            try (Connection c = Clients.jdbc(port, "scram_u", "scram_pw", "postgres")) {
                assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("scram_u");
            }
        }
    }

    private static List<String> warnings(Statement s) throws SQLException {
        List<String> all = new java.util.ArrayList<>();
        for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
            all.add(w.getMessage());
        }
        return all;
    }
}
