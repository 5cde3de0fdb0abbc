package dev.pgferry.robustness;

import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.TestPorts;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Connections to the robustness tests' pgferry, raw or through pgjdbc. The tests take the port from their injected
 * {@code pgferry.listen-port}; {@link #LISTEN_PORT} is what their profiles configure.
 */
final class Clients {
    static final String HOST = "127.0.0.1";
    /** Not the run's default port (100 above it), so these profiles' pgferry has a port of its own. */
    static final int LISTEN_PORT = TestPorts.listenPort(100);

    private Clients() {}

    /** The StartupMessage {@link #login} sends: user and database postgres, application_name robustness. */
    static byte[] startupMessage() {
        return RawWireClient.startupMessage("user", "postgres", "database", "postgres", "application_name", "robustness");
    }

    /** Logs in as postgres/secret to {@code database} with SCRAM-SHA-256; returns when ReadyForQuery arrives. */
    static RawWireClient login(int port, String database) throws IOException {
        return RawWireClient.login(HOST, port, 10_000, "postgres", "secret", database, "application_name", "robustness")
                .timeout(0);
    }

    /** A pgjdbc connection through pgferry (pgjdbc's Driver directly: DriverManager hides it after Quarkus ran). */
    static Connection jdbc(int port, String user, String password, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "30");
        return new org.postgresql.Driver().connect("jdbc:postgresql://" + HOST + ":" + port + "/" + database, p);
    }

    static Connection jdbc(int port, String database) throws SQLException {
        return jdbc(port, "postgres", "secret", database);
    }
}
