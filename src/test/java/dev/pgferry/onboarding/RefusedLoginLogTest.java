package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgferry.testing.CapturedLog;
import dev.pgferry.testing.ServerSecretsResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * Each refused login leaves one INFO line, as PostgreSQL logs its FATAL with a DETAIL: user, database, client address
 * and why, never the password; a flood from one address is cut to a few lines a minute. Every test logs in from an
 * address of its own on the loopback network (pgjdbc's localSocketAddress), so the per-address limit of one does not
 * silence another. The users file holds the server's own secrets: md5_u's is an MD5 hash, which the default
 * scram-sha-256 cannot use.
 */
@QuarkusTest
@WithTestResource(value = ServerSecretsResource.class, initArgs = {
    @ResourceArg(name = "users", value = "postgres,scram_u,md5_u"), @ResourceArg(name = "file", value = "refused")})
class RefusedLoginLogTest {
    private static final String CATEGORY = "dev.pgferry.session.RefusedLogins";

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private SQLException refused(String from, String user, String password, String database) {
        PSQLException e = catchThrowableOfType(PSQLException.class, () -> {
            try (Connection c = Clients.jdbc(port, user, password, database, Map.of("localSocketAddress", from))) {
                // logged in: not expected
            }
        });
        assertThat((Throwable) e).as("login of %s to %s refused", user, database).isNotNull();
        return e;
    }

    private static List<String> linesFrom(CapturedLog log, String address) {
        return log.lines().stream().filter(l -> l.contains("client=/" + address + ":")).toList();
    }

    @Test
    void aWrongPasswordIsOneInfoLineWithUserDatabaseClientAndReasonButNoPassword() {
        try (CapturedLog log = CapturedLog.of(CATEGORY)) {
            SQLException e = refused("127.0.0.11", "scram_u", "Wr0ng-Passw0rd", "postgres");
            assertThat(e.getSQLState()).isEqualTo("28P01");
            List<String> lines = linesFrom(log, "127.0.0.11");
            assertThat(lines).hasSize(1);
            assertThat(lines.get(0)).startsWith("INFO login refused: user=scram_u database=postgres client=/127.0.0.11:")
                    .contains("28P01 password authentication failed for user \"scram_u\"")
                    .contains("Password does not match for user \"scram_u\".")
                    .doesNotContain("Wr0ng-Passw0rd").doesNotContain("scram_pw").doesNotContain("SCRAM-SHA-256$");
        }
    }

    @Test
    void anUnknownUserIsLoggedAsSuch() {
        try (CapturedLog log = CapturedLog.of(CATEGORY)) {
            refused("127.0.0.12", "nobody_u", "whatever", "postgres");
            assertThat(linesFrom(log, "127.0.0.12")).singleElement().asString()
                    .contains("user=nobody_u").contains("Role \"nobody_u\" does not exist");
        }
    }

    @Test
    void anUnknownDatabaseIsLoggedWithTheServersAnswer() {
        try (CapturedLog log = CapturedLog.of(CATEGORY)) {
            SQLException e = refused("127.0.0.13", "scram_u", "scram_pw", "no_such_db");
            assertThat(e.getSQLState()).isEqualTo("3D000");
            assertThat(linesFrom(log, "127.0.0.13")).singleElement().asString()
                    .contains("user=scram_u database=no_such_db")
                    .contains("3D000 database \"no_such_db\" does not exist");
        }
    }

    @Test
    void aUserRefusedByTheAdminConsoleIsLogged() {
        try (CapturedLog log = CapturedLog.of(CATEGORY)) {
            SQLException e = refused("127.0.0.14", "scram_u", "scram_pw", "pgferry");
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(linesFrom(log, "127.0.0.14")).singleElement().asString()
                    .contains("user=scram_u database=pgferry").contains("42501 permission denied for admin console");
        }
    }

    /**
     * scram-sha-256 (the default) cannot check an MD5 hash, as in PostgreSQL and PgBouncer: the client only learns
     * that the password failed, the log says why (PostgreSQL's "does not have a valid SCRAM secret").
     */
    @Test
    void scramWithAnMd5SecretIsRefusedAndTheLineSaysWhy() {
        try (CapturedLog log = CapturedLog.of(CATEGORY)) {
            SQLException e = refused("127.0.0.15", "md5_u", "md5_pw", "postgres");
            assertThat(e.getSQLState()).isEqualTo("28P01");
            assertThat(e.getMessage()).doesNotContain("MD5").doesNotContain("SCRAM secret");
            assertThat(linesFrom(log, "127.0.0.15")).singleElement().asString()
                    .contains("user=md5_u").contains("User \"md5_u\" does not have a valid SCRAM secret")
                    .contains("MD5 hash").doesNotContain("md5_pw");
        }
    }

    /** 25 wrong passwords from one address within a minute: 10 lines, the tenth saying the rest are only counted. */
    @Test
    void aFloodFromOneAddressIsCutToTenLinesAMinute() {
        try (CapturedLog log = CapturedLog.of(CATEGORY)) {
            for (int i = 0; i < 25; i++) {
                refused("127.0.0.16", "scram_u", "guess" + i, "postgres");
            }
            refused("127.0.0.17", "scram_u", "guess", "postgres");
            List<String> lines = linesFrom(log, "127.0.0.16");
            assertThat(lines).hasSize(10);
            assertThat(lines.get(9)).contains("10 refused logins from 127.0.0.16 this minute: further ones are counted,"
                    + " not logged");
            assertThat(linesFrom(log, "127.0.0.17")).as("another address is not silenced").hasSize(1);
        }
    }
}
