package dev.pgferry.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresResource;
import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.SelfSignedCertificate;
import dev.pgferry.testing.SocketDirectory;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;

/**
 * pgferry.tls.client.mode=require with a Unix socket beside TCP: as PostgreSQL, no TLS on the socket (SSLRequest 'N',
 * no direct TLS) and no refusal for it there, while plaintext on TCP is still refused.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(UnixSocketClientTlsTest.RequireTlsWithASocket.class)
class UnixSocketClientTlsTest {

    public static class RequireTlsWithASocket implements QuarkusTestProfile {
        static final Path DIR = directory();

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.tls.client.mode", "require",
                    "pgferry.tls.client.cert-file", DIR.resolve("cert.pem").toString(),
                    "pgferry.tls.client.key-file", DIR.resolve("key.pem").toString(),
                    "pgferry.unix-socket-dir", DIR.toString());
        }

        /** Certificate, key and socket in one short directory: a socket path holds at most 107 bytes. */
        static Path directory() {
            Path dir = SocketDirectory.create("key.pem", "cert.pem");
            try {
                SelfSignedCertificate.write(dir.resolve("key.pem"), dir.resolve("cert.pem"));
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return dir;
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ConfigProperty(name = "pgferry.unix-socket-dir")
    String socketDir;

    private Path socket() {
        return dev.pgferry.server.UnixSocketFile.path(socketDir, port);
    }

    @Test
    @Timeout(60)
    void sslRequestOnTheSocketIsAnsweredNAndRequireDoesNotRefuseTheLogin() throws Exception {
        try (RawWireClient c = RawWireClient.connect(socket()).timeout(10_000)) {
            c.send(RawWireClient.sslRequest());
            assertThat(c.readByte()).as("answer to SSLRequest on the socket").isEqualTo('N');
            c.logIn("scram_u", "scram_pw", "postgres");
            List<RawWireClient.Msg> reply = c.exchange(1, RawWireClient.query("select 'local'"));
            assertThat(reply).filteredOn(m -> m.type() == 'D').singleElement()
                    .satisfies(row -> assertThat(new String(row.body(), StandardCharsets.UTF_8)).endsWith("local"));
        }
    }

    /** libpq never asks for TLS on a Unix socket, whatever sslmode says; pgferry admits it as PostgreSQL would. */
    @Test
    @Timeout(90)
    void psqlWithSslmodeRequireLogsInOnTheSocket() throws Exception {
        ClientProgram.Result r = ClientProgram.run(List.of("/usr/bin/psql", "-X", "-w", "-At",
                "host=" + socketDir + " port=" + port + " user=scram_u dbname=postgres sslmode=require",
                "-c", "select 'ok-' || current_user", "-c", "\\conninfo"), "scram_pw", Map.of(), 60);
        String out = r.stdout();
        assertThat(r.exitCode()).as(out + r.stderr()).isZero();
        assertThat(out).contains("ok-scram_u").contains("via socket in \"" + socketDir + "\"")
                .doesNotContain("SSL connection");
    }

    /**
     * A TLS ClientHello first (PostgreSQL 17's direct TLS) gets no handshake on the socket: its first four bytes are
     * read as a startup packet's length, as with client TLS disabled (PostgreSQL closes such a connection silently).
     */
    @Test
    @Timeout(60)
    void directTlsOnTheSocketGetsNoHandshake() throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine();
        engine.setUseClientMode(true);
        ByteBuffer hello = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), hello);
        hello.flip();
        byte[] clientHello = Arrays.copyOf(hello.array(), hello.limit());
        assertThat(clientHello[0]).as("a TLS handshake record").isEqualTo((byte) 0x16);
        try (RawWireClient c = RawWireClient.connect(socket()).timeout(10_000)) {
            c.send(clientHello);
            assertThat(c.reply()).as("no ServerHello, no ErrorResponse: closed").isEqualTo("closed");
        }
        dev.pgferry.testing.PostgresFixture pg = dev.pgferry.testing.PostgresFixture.get();
        org.junit.jupiter.api.Assumptions.assumeTrue(pg.isLocal(), "the cluster runs in a container: no socket here");
        try (RawWireClient c = RawWireClient.connect(pg.local().socketDirectory().resolve(".s.PGSQL." + pg.port()))
                .timeout(10_000)) {
            c.send(clientHello);
            assertThat(c.reply()).as("PostgreSQL 15 on its socket").isEqualTo("closed");
        }
    }

    @Test
    void plaintextOnTcpIsStillRefused() {
        Properties p = new Properties();
        p.setProperty("user", "scram_u");
        p.setProperty("password", "scram_pw");
        p.setProperty("sslmode", "disable");
        assertThatThrownBy(() -> new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p))
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28000");
                    assertThat(e.getMessage()).contains("SSL required");
                });
    }
}
