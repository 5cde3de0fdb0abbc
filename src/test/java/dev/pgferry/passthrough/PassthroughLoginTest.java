package dev.pgferry.passthrough;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.util.PSQLException;

/** pgferry.auth.type=passthrough: no secret in pgferry; the server's verdict is the client's. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(PassthroughLoginTest.Passthrough.class)
class PassthroughLoginTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;


    public static class Passthrough implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // no users file at all: every login is relayed to the server
            return Map.of("pgferry.auth.type", "passthrough", "pgferry.auth.users-file", "");
        }
    }

    Connection connect(String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    @ParameterizedTest
    @CsvSource({"scram_u,scram_pw", "md5_u,md5_pw", "plain_u,plain_pw", "postgres,secret"})
    void serverAuthenticatesEachMethodThroughPgferry(String user, String password) throws SQLException {
        try (Connection c = connect(user, password); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo(user);
        }
    }

    @Test
    void wrongPasswordGetsTheServersOwnError() {
        assertThatThrownBy(() -> connect("scram_u", "wrong"))
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).contains("password authentication failed for user \"scram_u\"");
                });
    }

    @Test
    void backendOfAPassthroughLoginServesLaterTransactions() throws SQLException {
        try (Connection c = connect("md5_u", "md5_pw"); Statement s = c.createStatement()) {
            for (int i = 0; i < 50; i++) {
                try (ResultSet rs = s.executeQuery("select " + i)) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(i);
                }
            }
        }
    }
}
