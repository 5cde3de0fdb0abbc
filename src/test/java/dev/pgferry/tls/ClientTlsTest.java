package dev.pgferry.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.SelfSignedCertificate;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/** pgferry.tls.client.mode=require with a certificate for 127.0.0.1: TLS negotiated in onboarding. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(ClientTlsTest.RequireTls.class)
class ClientTlsTest {
    static final Path DIR = certificates();

    /**
     * pgferry's listen port in this run (16432 unless overridden, e.g. by {@code _TEST_PGFERRY_LISTEN_PORT}), injected
     * from the application under test: ConfigProvider in test code may still see an earlier test's application.
     */
    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "pgferry.listen-port")
    int listenPort;
    private static int port;

    @org.junit.jupiter.api.BeforeEach
    void notePort() {
        port = listenPort;
    }

    static int port() {
        return port;
    }

    public static class RequireTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.tls.client.mode", "require",
                    "pgferry.tls.client.cert-file", DIR.resolve("cert.pem").toString(),
                    "pgferry.tls.client.key-file", DIR.resolve("key.pem").toString());
        }
    }

    /** A self-signed certificate for 127.0.0.1 made with openssl (PKCS#8 key). */
    static Path certificates() {
        try {
            Path dir = Files.createTempDirectory("pgferry-tls");
            SelfSignedCertificate.write(dir.resolve("key.pem"), dir.resolve("cert.pem"));
            return dir;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static Connection connect(String sslmode, String extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "scram_u");
        p.setProperty("password", "scram_pw");
        p.setProperty("sslmode", sslmode);
        if (extra != null) {
            p.setProperty("sslrootcert", extra);
        }
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port() + "/postgres", p);
    }

    @Test
    void pgjdbcVerifyFullAgainstPgferrysCertificate() throws SQLException {
        try (Connection c = connect("verify-full", DIR.resolve("cert.pem").toString()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("scram_u");
        }
    }

    @Test
    void pgjdbcScramWithChannelBindingRequired() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "scram_u");
        p.setProperty("password", "scram_pw");
        p.setProperty("sslmode", "require");
        p.setProperty("channelBinding", "require");
        try (Connection c = new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port() + "/postgres", p);
                Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 'bound'")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("bound");
        }
    }

    @Test
    void psqlSslmodeRequireGetsAnEncryptedSession() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("psql", "host=127.0.0.1 port=" + port() + " user=md5_u dbname=postgres sslmode=require",
                "-c", "\\conninfo", "-c", "select 'ok-' || current_user");
        pb.environment().put("PGPASSWORD", "md5_pw");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("SSL connection (protocol: TLSv1.").contains("ok-md5_u");
    }

    @Test
    void plaintextIsRefusedInRequireMode() {
        assertThatThrownBy(() -> connect("disable", null)).isInstanceOfSatisfying(PSQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getMessage()).contains("SSL required");
        });
    }

    /** PostgreSQL 17's direct TLS: the client starts with a ClientHello (ALPN "postgresql"), no SSLRequest. */
    @Test
    void directTlsWithAlpnPostgresqlIsAccepted() throws Exception {
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port())) {
            javax.net.ssl.SSLParameters params = s.getSSLParameters();
            params.setApplicationProtocols(new String[] {"postgresql"});
            s.setSSLParameters(params);
            s.setSoTimeout(5000);
            s.startHandshake();
            assertThat(s.getApplicationProtocol()).isEqualTo("postgresql");
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(b);
            byte[] startup = "user\0scram_u\0database\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
            d.writeInt(8 + startup.length);
            d.writeInt(196608);
            d.write(startup);
            s.getOutputStream().write(b.toByteArray());
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertThat(in.readByte()).isEqualTo((byte) 'R');
            int len = in.readInt();
            assertThat(in.readInt()).as("AuthenticationSASL").isEqualTo(10);
            byte[] mechanisms = new byte[len - 8];
            in.readFully(mechanisms);
            assertThat(new String(mechanisms, StandardCharsets.US_ASCII)).contains("SCRAM-SHA-256-PLUS");
        }
    }

    @Test
    void bytesAfterSslRequestBeforeTheHandshakeAreRejected() throws IOException {
        try (Socket s = new Socket("127.0.0.1", port())) {
            s.setSoTimeout(5000);
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(b);
            d.writeInt(8);
            d.writeInt(80877103); // SSLRequest
            byte[] startup = "user\0postgres\0\0".getBytes(StandardCharsets.US_ASCII);
            d.writeInt(8 + startup.length);
            d.writeInt(196608);
            d.write(startup);
            s.getOutputStream().write(b.toByteArray()); // one write: injected plaintext after the SSLRequest
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertThat(in.readByte()).isEqualTo((byte) 'E');
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            String fields = new String(body, StandardCharsets.UTF_8);
            assertThat(fields).contains("C08P01").contains("Mreceived unencrypted data after SSL request\0")
                    .contains("DThis could be either a client-software bug or evidence of an attempted"
                            + " man-in-the-middle attack.\0");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    /** A context that trusts any certificate: these tests look at what comes after the handshake, not who answered. */
    private static javax.net.ssl.SSLContext trustingAnyone() throws Exception {
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        return tls;
    }

    /**
     * SSLRequest answered 'S', the TLS handshake, then {@code code} (8 bytes) inside TLS: returns the SQLSTATE and
     * message of the ErrorResponse that answers it, and "closed" if the server then closed the connection.
     */
    private static String requestInsideTls(int port, int code) throws Exception {
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            DataOutputStream out = new DataOutputStream(plain.getOutputStream());
            out.writeInt(8);
            out.writeInt(80877103);
            assertThat(plain.getInputStream().read()).as("answer to the SSLRequest").isEqualTo('S');
            try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) trustingAnyone().getSocketFactory()
                    .createSocket(plain, "127.0.0.1", port, true)) {
                s.startHandshake();
                DataOutputStream d = new DataOutputStream(s.getOutputStream());
                d.writeInt(8);
                d.writeInt(code);
                d.flush();
                DataInputStream in = new DataInputStream(s.getInputStream());
                assertThat(in.readByte()).as("an ErrorResponse").isEqualTo((byte) 'E');
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                String sqlState = null;
                String message = null;
                for (String field : new String(body, StandardCharsets.UTF_8).split("\0")) {
                    if (field.startsWith("C")) {
                        sqlState = field.substring(1);
                    } else if (field.startsWith("M")) {
                        message = field.substring(1);
                    }
                }
                int next;
                try {
                    next = in.read();
                } catch (javax.net.ssl.SSLException | java.net.SocketException e) {
                    next = -1; // closed without close_notify or reset: closed all the same
                }
                return sqlState + " " + message + (next == -1 ? " closed" : " open");
            }
        }
    }

    /**
     * SSLRequest answered 'S', the TLS handshake, then {@code bytes} inside TLS: everything the server sends until it
     * closes the connection ({@link dev.pgferry.testing.ServerReply}).
     */
    private static String replyInsideTls(int port, byte[] bytes) throws Exception {
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            DataOutputStream out = new DataOutputStream(plain.getOutputStream());
            out.writeInt(8);
            out.writeInt(80877103);
            assertThat(plain.getInputStream().read()).as("answer to the SSLRequest").isEqualTo('S');
            try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) trustingAnyone().getSocketFactory()
                    .createSocket(plain, "127.0.0.1", port, true)) {
                s.startHandshake();
                s.getOutputStream().write(bytes);
                s.getOutputStream().flush();
                return dev.pgferry.testing.ServerReply.read(s.getInputStream());
            }
        }
    }

    /**
     * Inside TLS a packet PostgreSQL cannot frame is what it is in plaintext: a COMMERROR, the connection closed
     * without a word (TLS close_notify, no ErrorResponse). The fixture's PostgreSQL, with ssl on, gets the same bytes.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"5800000004", "00000004", "4000000400030000"})
    void anUnframeablePacketInsideTlsIsClosedWithoutAWordAsByPostgres(String hex) throws Exception {
        byte[] bytes = java.util.HexFormat.of().parseHex(hex);
        assertThat(replyInsideTls(port(), bytes)).as("pgferry").isEqualTo("closed");
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.pgferry.testing.PostgresFixture.get().isLocal(),
                "the cluster runs in a container: its ssl cannot be turned on here");
        dev.pgferry.testing.PostgresTlsResource.enable();
        assertThat(replyInsideTls(dev.pgferry.testing.PostgresFixture.get().port(), bytes)).as("PostgreSQL")
                .isEqualTo("closed");
    }

    /**
     * node-postgres with {@code ssl}: {@code client.end()} before {@code client.connect()} has finished. Its Terminate
     * goes out before the SSLRequest; PostgreSQL closes without a word and the application sees no error. pgferry's
     * FATAL answer used to come back to it as "There was an error establishing an SSL connection".
     */
    @Test
    void nodePostgresWithSslEndingBeforeItsStartupPacketSeesNoError() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.pgferry.testing.PostgresFixture.get().isLocal(),
                "the cluster runs in a container: its ssl cannot be turned on here");
        dev.pgferry.testing.PostgresTlsResource.enable();
        int pg = dev.pgferry.testing.PostgresFixture.get().port();
        String out = dev.pgferry.testing.NodePostgres.endBeforeConnected(pg, port(), true);
        assertThat(out).as("node output").contains("postgres: ended\n").contains("pgferry: ended\n");
    }

    /**
     * Once TLS is up neither encryption request is taken any more (PostgreSQL's ProcessStartupPacket sets ssl_done and
     * gss_done): the code is read as protocol 1234.5679 or 1234.5680 and refused, 0A000, by pgferry as by the fixture's
     * PostgreSQL with ssl on. pgferry names its own range of versions, 3.0 to 3.2.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"80877103, 1234.5679", "80877104, 1234.5680"})
    void anEncryptionRequestInsideTlsIsAnUnsupportedProtocolAsInPostgres(int code, String version) throws Exception {
        String expected = "0A000 unsupported frontend protocol " + version + ": server supports 3.0 to 3.2 closed";
        assertThat(requestInsideTls(port(), code)).isEqualTo(expected);
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.pgferry.testing.PostgresFixture.get().isLocal(),
                "the cluster runs in a container: its ssl cannot be turned on here");
        dev.pgferry.testing.PostgresTlsResource.enable();
        String range = "server supports 3\\.0 to 3\\.\\d+";
        assertThat(requestInsideTls(dev.pgferry.testing.PostgresFixture.get().port(), code).replaceAll(range, ""))
                .as("PostgreSQL").isEqualTo(expected.replaceAll(range, ""));
    }
}
