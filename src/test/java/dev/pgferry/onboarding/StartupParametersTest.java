package dev.pgferry.onboarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.ClientProgram;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/** After login the client sees the server's ParameterStatus values, and its own startup parameters take effect. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
class StartupParametersTest {

    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    private static String direct(String sql) throws Exception {
        try (Connection c = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres")) {
            return Clients.queryOne(c, sql);
        }
    }

    @Test
    void clientSeesTheServersParameterStatusAndItsOwnStartupValues() throws Exception {
        try (Connection c = Clients.jdbc(port, "scram_u", "scram_pw", "postgres",
                Map.of("ApplicationName", "onboarding-test"))) {
            Map<String, String> ps = c.unwrap(PGConnection.class).getParameterStatuses();
            assertThat(ps.get("server_version")).isEqualTo(direct("show server_version"));
            assertThat(ps.get("client_encoding")).isEqualTo("UTF8");
            assertThat(ps.get("DateStyle")).startsWith("ISO");
            assertThat(ps.get("integer_datetimes")).isEqualTo("on");
            assertThat(ps.get("standard_conforming_strings")).isEqualTo("on");
            assertThat(ps.get("application_name")).isEqualTo("onboarding-test");
            assertThat(ps).containsKeys("TimeZone", "IntervalStyle", "is_superuser", "session_authorization",
                    "server_encoding");
            assertThat(ps.get("is_superuser")).isEqualTo("off");
            assertThat(ps.get("session_authorization")).isEqualTo("scram_u");
            // and the backend agrees with what the client was told
            assertThat(Clients.queryOne(c, "show application_name")).isEqualTo("onboarding-test");
            assertThat(Clients.queryOne(c, "show TimeZone")).isEqualTo(ps.get("TimeZone"));
            assertThat(Clients.queryOne(c, "show DateStyle")).isEqualTo(ps.get("DateStyle"));
        }
    }

    @Test
    void superuserIsReportedAsSuch() throws Exception {
        try (Connection c = Clients.jdbc(port, "postgres", "secret", "postgres")) {
            Map<String, String> ps = c.unwrap(PGConnection.class).getParameterStatuses();
            assertThat(ps.get("is_superuser")).isEqualTo("on");
            assertThat(ps.get("session_authorization")).isEqualTo("postgres");
        }
    }

    @Test
    void optionsDashCSearchPathTakesEffect() throws Exception {
        try (Connection c = Clients.jdbc(port, "md5_u", "md5_pw", "postgres",
                Map.of("options", "-c search_path=foo -c statement_timeout=12345"))) {
            assertThat(Clients.queryOne(c, "show search_path")).isEqualTo("foo");
            assertThat(Clients.queryOne(c, "show statement_timeout")).isEqualTo("12345ms");
        }
    }

    @Test
    void optionsWithAnEscapedSpaceTakeEffect() throws Exception {
        try (Connection c = Clients.jdbc(port, "plain_u", "plain_pw", "postgres",
                Map.of("options", "--search_path=\"my\\ schema\",public"))) {
            assertThat(Clients.queryOne(c, "show search_path")).isEqualTo("\"my schema\",public");
        }
    }

    @Test
    void startupParametersOfOneClientDoNotLeakToTheNext() throws Exception {
        try (Connection a = Clients.jdbc(port, "scram_u", "scram_pw", "postgres",
                Map.of("options", "-c search_path=leaky", "ApplicationName", "first"))) {
            assertThat(Clients.queryOne(a, "show search_path")).isEqualTo("leaky");
        }
        String serverDefault = direct("select boot_val from pg_settings where name = 'search_path'");
        try (Connection b = Clients.jdbc(port, "scram_u", "scram_pw", "postgres", Map.of("ApplicationName", "second"))) {
            assertThat(Clients.queryOne(b, "show search_path")).isEqualTo(serverDefault);
            assertThat(Clients.queryOne(b, "show application_name")).isEqualTo("second");
        }
    }

    @Test
    void psqlSeesItsApplicationNameAndTheServersEncoding() throws Exception {
        ClientProgram.Result r = Clients.psql(port, "md5_u", "md5_pw", "postgres",
                "select current_setting('application_name') || '|' || current_setting('client_encoding')",
                Map.of("PGAPPNAME", "psql-params", "PGCLIENTENCODING", "LATIN1"));
        assertThat(r.exitCode()).as("psql stderr: %s", r.stderr()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("psql-params|LATIN1");
    }
}
