package dev.pgferry.observability;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.postgresql.Driver;

/** Client connections to the pgferry under test on 127.0.0.1:{@code port}, straight through pgjdbc's Driver. */
public final class ThroughPgferry {
    private static final Driver DRIVER = new Driver();

    private ThroughPgferry() {}

    public static Connection connect(int port, String user, String password, String database, boolean simpleProtocol)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("socketTimeout", "60");
        if (simpleProtocol) {
            props.setProperty("preferQueryMode", "simple");
        }
        Connection c = DRIVER.connect("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
        if (c == null) {
            throw new SQLException("pgjdbc refused the URL");
        }
        return c;
    }

    /** The admin console as postgres/secret over the simple query protocol. */
    public static Connection admin(int port) throws SQLException {
        return connect(port, "postgres", "secret", "pgferry", true);
    }

    /** Polls {@code condition} every 100 ms until it holds or {@code timeout} passes; returns the last answer. */
    public static boolean eventually(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
    }
}
