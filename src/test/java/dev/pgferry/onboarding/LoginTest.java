package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Logins through pgferry with pgjdbc and psql: each user (whose backend the server admits only with its own
 * method: SCRAM, MD5, cleartext) gets in; wrong passwords and unknown users fail alike; an unknown database
 * is the server's own 3D000.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class LoginTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ParameterizedTest
    @CsvSource({"postgres, secret", "scram_u, scram_pw", "md5_u, md5_pw", "plain_u, plain_pw"})
    void eachUserLogsInWithPgjdbc(String user, String password) throws Exception {
        for (String db : new String[] {"postgres", "bench"}) {
            try (Connection c = Clients.jdbc(port, user, password, db)) {
                assertThat(Clients.queryOne(c, "select current_user || '@' || current_database()"))
                        .isEqualTo(user + "@" + db);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"postgres, secret", "scram_u, scram_pw", "md5_u, md5_pw", "plain_u, plain_pw"})
    void eachUserLogsInWithPsql(String user, String password) throws Exception {
        ClientProgram.Result r = Clients.psql(port, user, password, "postgres",
                "select current_user || '@' || current_setting('application_name')", Map.of("PGAPPNAME", "psql-login"));
        assertThat(r.exitCode()).as("psql stderr: %s", r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo(user + "@psql-login");
    }

    @Test
    void psqlWithSslPreferFallsBackToPlainOnTheSameServer() throws Exception {
        ClientProgram.Result r = Clients.psql(port, "scram_u", "scram_pw", "postgres", "select 1",
                Map.of("PGSSLMODE", "prefer", "PGGSSENCMODE", "prefer"));
        assertThat(r.exitCode()).as("psql stderr: %s", r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("1");
    }

    private PSQLException pgjdbcLoginFailure(String user, String password, String database) {
        PSQLException e = catchThrowableOfType(PSQLException.class,
                () -> Clients.jdbc(port, user, password, database).close());
        assertThat((Throwable) e).as("login refused").isNotNull();
        return e;
    }

    private static void assertServerError(PSQLException e, String sqlState, String message) {
        assertThat(e.getSQLState()).isEqualTo(sqlState);
        ServerErrorMessage m = e.getServerErrorMessage();
        assertThat(m).as("an ErrorResponse, not a client-side failure: %s", e.getMessage()).isNotNull();
        assertThat(m.getSeverity()).isEqualTo("FATAL");
        assertThat(m.getMessage()).isEqualTo(message);
    }

    @ParameterizedTest
    @CsvSource({"postgres", "scram_u", "md5_u", "plain_u"})
    void wrongPasswordIs28P01WithPostgresWording(String user) {
        assertServerError(pgjdbcLoginFailure(user, "wrong", "postgres"), "28P01",
                "password authentication failed for user \"" + user + "\"");
    }

    @Test
    void unknownUserFailsExactlyLikeAWrongPassword() {
        assertServerError(pgjdbcLoginFailure("nobody_u", "whatever", "postgres"), "28P01",
                "password authentication failed for user \"nobody_u\"");
    }

    /** psql's {@code select 1} as {@code user} on {@code database} exits with 2 (connection failed) and says why. */
    private void assertPsqlLoginFails(String user, String password, String database, String fatal) throws Exception {
        ClientProgram.Result r = Clients.psql(port, user, password, database, "select 1", Map.of());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains(fatal);
    }

    @Test
    void wrongPasswordWithPsql() throws Exception {
        assertPsqlLoginFails("scram_u", "nope", "postgres",
                "FATAL:  password authentication failed for user \"scram_u\"");
    }

    @Test
    void unknownUserWithPsql() throws Exception {
        assertPsqlLoginFails("nobody_u", "nope", "postgres",
                "FATAL:  password authentication failed for user \"nobody_u\"");
    }

    @Test
    void unknownDatabaseIsTheServers3D000() {
        assertServerError(pgjdbcLoginFailure("scram_u", "scram_pw", "no_such_db"), "3D000",
                "database \"no_such_db\" does not exist");
    }

    @Test
    void unknownDatabaseIsReportedAgainOnTheNextTry() {
        // the first failure must not leave a pool behind that answers differently the second time
        assertServerError(pgjdbcLoginFailure("md5_u", "md5_pw", "no_such_db2"), "3D000",
                "database \"no_such_db2\" does not exist");
        assertServerError(pgjdbcLoginFailure("md5_u", "md5_pw", "no_such_db2"), "3D000",
                "database \"no_such_db2\" does not exist");
    }

    @Test
    void unknownDatabaseWithPsql() throws Exception {
        assertPsqlLoginFails("plain_u", "plain_pw", "no_such_db3",
                "FATAL:  database \"no_such_db3\" does not exist");
    }

    @Test
    void aFailedLoginDoesNotSpoilTheNextOneOfTheSameUser() throws Exception {
        pgjdbcLoginFailure("plain_u", "wrong", "postgres");
        try (Connection c = Clients.jdbc(port, "plain_u", "plain_pw", "postgres")) {
            assertThat(Clients.queryOne(c, "select current_user")).isEqualTo("plain_u");
        }
    }
}
