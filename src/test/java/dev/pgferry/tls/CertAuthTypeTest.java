package dev.pgferry.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * pgferry.auth.type=cert, PgBouncer's auth_type=cert: every client logs in by a certificate the CA file verifies
 * and whose CN is its user, with no password; the refusals are PostgreSQL's for a {@code cert} line.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(CertAuthTypeTest.CertForAll.class)
class CertAuthTypeTest {

    public static class CertForAll implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            ClientCertificateAuthTest.makeCertificates();
            return Map.of("pgferry.auth.type", "cert",
                    "pgferry.tls.client.mode", "prefer",
                    "pgferry.tls.client.cert-file", ClientCertificateAuthTest.DIR.resolve("server.pem").toString(),
                    "pgferry.tls.client.key-file", ClientCertificateAuthTest.DIR.resolve("server.key").toString(),
                    "pgferry.tls.client.ca-file", ClientCertificateAuthTest.DIR.resolve("trusted.pem").toString());
        }
    }

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private Connection jdbc(String sslmode, String cert) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "scram_u");
        p.setProperty("sslmode", sslmode);
        p.setProperty("connectTimeout", "10");
        if (cert != null) {
            p.setProperty("sslcert", ClientCertificateAuthTest.DIR.resolve(cert + ".pem").toString());
            p.setProperty("sslkey", ClientCertificateAuthTest.DIR.resolve(cert + ".pk8").toString());
        }
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    private void assertRefused(String sslmode, String cert, String message) {
        assertThatThrownBy(() -> jdbc(sslmode, cert).close()).isInstanceOfSatisfying(PSQLException.class, e -> {
            assertThat(e.getServerErrorMessage()).as("a FATAL from the server: %s", e).isNotNull();
            assertThat(e.getServerErrorMessage().getMessage()).isEqualTo(message);
            assertThat(e.getSQLState()).isEqualTo("28000");
        });
    }

    @Test
    void theCertificateOfTheUserLogsItInWithoutAPassword() throws Exception {
        try (Connection c = jdbc("require", "scram_u"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("scram_u");
        }
        ClientProgram.Result r = ClientProgram.run(List.of("/usr/bin/psql", "-X", "-w", "-At", "-c",
                "select current_user", "host=127.0.0.1 port=" + port + " user=scram_u dbname=postgres sslmode=require"
                        + " sslcert=" + ClientCertificateAuthTest.DIR.resolve("scram_u.pem")
                        + " sslkey=" + ClientCertificateAuthTest.DIR.resolve("scram_u.key")), "", Map.of(), 60);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("scram_u");
    }

    @Test
    void anyOtherClientIsRefused() {
        assertRefused("require", "other", "certificate authentication failed for user \"scram_u\"");
        assertRefused("require", null, "connection requires a valid client certificate");
        assertRefused("disable", null, "connection requires a valid client certificate");
    }
}
