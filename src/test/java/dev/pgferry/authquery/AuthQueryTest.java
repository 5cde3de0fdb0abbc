package dev.pgferry.authquery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresFixture;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * auth_query: users that exist only on the server (SCRAM secrets in pg_authid, in no file) log in through
 * pgferry, and pgferry opens their backends with the ClientKey recovered from their proof — no plaintext.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(AuthQueryTest.WithAuthQuery.class)
class AuthQueryTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;


    public static class WithAuthQuery implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.auth.user", "postgres");
        }
    }

    @BeforeAll
    static void serverOnlyUsers() throws SQLException {
        try (Connection c = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres");
                Statement s = c.createStatement()) {
            s.execute("drop role if exists aq_u");
            s.execute("set password_encryption = 'scram-sha-256'");
            s.execute("create role aq_u login password 'aq_pw'");
        }
    }

    Connection connect(String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    @Test
    void serverOnlyScramUserLogsInAndGetsBackendsWithoutPlaintext() throws SQLException {
        for (int i = 0; i < 3; i++) {
            try (Connection c = connect("aq_u", "aq_pw"); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("select current_user, count(*) from pg_stat_activity")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("aq_u");
            }
        }
    }

    @Test
    void wrongPasswordFailsWith28P01() {
        assertThatThrownBy(() -> connect("aq_u", "nope")).isInstanceOfSatisfying(PSQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28P01");
            assertThat(e.getMessage()).contains("password authentication failed for user \"aq_u\"");
        });
    }

    @Test
    void userUnknownEverywhereFailsLikeAWrongPassword() {
        assertThatThrownBy(() -> connect("nobody_at_all", "x")).isInstanceOfSatisfying(PSQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("28P01");
            assertThat(e.getMessage()).contains("password authentication failed for user \"nobody_at_all\"");
        });
    }

    @Test
    void usersFromTheFileStillWork() throws SQLException {
        try (Connection c = connect("md5_u", "md5_pw"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("md5_u");
        }
    }
}
