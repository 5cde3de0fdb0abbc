package dev.pgferry.tls;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgferry.observability.PrometheusText;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import org.postgresql.Driver;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** pgjdbc through pgferry and pgferry's backend SCRAM counters, for the channel-binding tests. */
final class ChannelBindingClients {
    static final Map<String, String> PASSWORDS = Map.of("scram_u", "scram_pw", "md5_u", "md5_pw", "plain_u", "plain_pw");
    private static final Driver DRIVER = new Driver();

    private ChannelBindingClients() {}

    /**
     * pgferry's listen port, set by each test class from its injected {@code pgferry.listen-port}: ConfigProvider in
     * test code may still see an earlier test's application.
     */
    static volatile int port;

    /** A pgjdbc connection through pgferry (plaintext between the client and pgferry). */
    static Connection connect(String user, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", PASSWORDS.get(user));
        p.setProperty("sslmode", "disable");
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "60");
        return DRIVER.connect("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
    }

    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Logs in, checks who it is and that pgferry's backend (whose pid the server reports) uses TLS. */
    static void loginWorksOverTls(String user, String database) throws SQLException {
        try (Connection c = connect(user, database)) {
            assertThat(one(c, "select current_user")).isEqualTo(user);
            assertThat(one(c, "select ssl from pg_stat_ssl where pid = pg_backend_pid()")).isEqualTo("t");
        }
    }

    /** The login's ErrorResponse, which must be pgferry's FATAL with this SQLSTATE. */
    static ServerErrorMessage loginRefused(String user, String database, String sqlState) {
        PSQLException e = catchThrowableOfType(PSQLException.class, () -> connect(user, database).close());
        assertThat((Throwable) e).as("login refused").isNotNull();
        ServerErrorMessage m = e.getServerErrorMessage();
        assertThat(m).as("an ErrorResponse, not a client-side failure: %s", e.getMessage()).isNotNull();
        assertThat(m.getSeverity()).isEqualTo("FATAL");
        assertThat(e.getSQLState()).isEqualTo(sqlState);
        return m;
    }

    /** pgferry_backend_scram_logins_total for this mechanism, 0 when absent. */
    static double scramLogins(String mechanism) {
        PrometheusText t = new PrometheusText(given().when().get("/q/metrics").then().statusCode(200).extract().asString());
        double v = t.value("pgferry_backend_scram_logins_total", Map.of("mechanism", mechanism));
        return Double.isNaN(v) ? 0 : v;
    }
}
