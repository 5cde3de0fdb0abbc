package dev.pgferry.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.Socket;
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

/** pgferry.client-max-logins-per-address: a flood of unfinished logins from one address is bounded. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(LoginsPerAddressTest.ThreeLogins.class)
class LoginsPerAddressTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;


    public static class ThreeLogins implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.client-max-logins-per-address", "3");
        }
    }

    Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "scram_u");
        p.setProperty("password", "scram_pw");
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    @Test
    void loginsBeyondTheLimitAreRefusedAndServedOnceOthersEnd() throws Exception {
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                stalled.add(new Socket("127.0.0.1", port)); // connected, never sends a startup packet
            }
            Thread.sleep(300);
            assertThatThrownBy(this::connect).isInstanceOfSatisfying(PSQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("53300");
                assertThat(e.getMessage()).contains("too many logins in progress from 127.0.0.1");
            });
            stalled.remove(0).close();
            Thread.sleep(300);
            try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
            // a finished login no longer counts: several in a row all succeed
            for (int i = 0; i < 5; i++) {
                connect().close();
            }
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }
}
