package dev.pgferry.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * Ports for test profiles that want pgferry on a port of their own, next to the run's default one and moved with it:
 * a run started with {@code _TEST_PGFERRY_LISTEN_PORT=26432} puts such a profile at 26432 + offset, so two runs on one
 * machine need only distinct base ports. Read from the environment and application.properties, not ConfigProvider,
 * which while a profile is chosen may still answer for the previous application.
 */
public final class TestPorts {
    private TestPorts() {}

    /** The run's {@code %test.pgferry.listen-port} plus {@code offset}. */
    public static int listenPort(int offset) {
        return base("%test.pgferry.listen-port", "_TEST_PGFERRY_LISTEN_PORT") + offset;
    }

    /** The run's {@code %test.quarkus.http.test-port} plus {@code offset}. */
    public static int httpTestPort(int offset) {
        return base("%test.quarkus.http.test-port", "_TEST_QUARKUS_HTTP_TEST_PORT") + offset;
    }

    /** As Quarkus resolves it: a system property, else the environment, else application.properties. */
    private static int base(String key, String environmentName) {
        String v = System.getProperty(key);
        if (v == null) {
            v = System.getenv(environmentName);
        }
        if (v == null) {
            Properties p = new Properties();
            try (InputStream in = TestPorts.class.getClassLoader().getResourceAsStream("application.properties")) {
                if (in == null) {
                    throw new IllegalStateException("no application.properties on the test class path");
                }
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            v = p.getProperty(key);
            if (v == null) {
                throw new IllegalStateException(key + " is not in application.properties");
            }
        }
        return Integer.parseInt(v.trim());
    }
}
