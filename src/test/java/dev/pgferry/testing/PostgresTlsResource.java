package dev.pgferry.testing;

import dev.pgferry.devservice.LocalPostgres;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Map;

/**
 * Turns on {@code ssl} in the JVM's {@link PostgresFixture} (a self-signed certificate for 127.0.0.1/localhost)
 * before the application under test starts; use it with {@link PostgresResource}. Idempotent: a server that
 * already has ssl on is left as it is. Plaintext connections stay allowed ({@code host} lines in pg_hba.conf).
 */
public class PostgresTlsResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        try {
            enable();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return Map.of();
    }

    @Override
    public void stop() {
        // ssl stays on: other test classes of this JVM may rely on it, and plaintext still works
    }

    /**
     * Turns ssl on in the fixture's server unless it is already on; returns the server's certificate (self-signed, so
     * also the CA a verifying client trusts).
     */
    public static synchronized Path enable() throws IOException, InterruptedException {
        LocalPostgres local = PostgresFixture.get().local();
        Path data = local.dataDirectory();
        Path crt = data.resolve("pgferry-test.crt");
        if ("on".equals(local.psql("show ssl").trim())) {
            return crt;
        }
        Path dir = Files.createTempDirectory("pgferry-server-tls");
        SelfSignedCertificate.write(dir.resolve("server.key"), dir.resolve("server.crt"));
        Files.copy(dir.resolve("server.crt"), crt, StandardCopyOption.REPLACE_EXISTING);
        Path key = Files.copy(dir.resolve("server.key"), data.resolve("pgferry-test.key"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        if ("root".equals(System.getProperty("user.name"))) {
            UserPrincipal postgres = data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(crt, postgres);
            Files.setOwner(key, postgres);
        }
        local.psql("alter system set ssl_cert_file = '" + crt + "'");
        local.psql("alter system set ssl_key_file = '" + key + "'");
        local.psql("alter system set ssl = on");
        local.psql("select pg_reload_conf()");
        for (int i = 0; i < 50 && !"on".equals(local.psql("show ssl").trim()); i++) {
            Thread.sleep(100);
        }
        return crt;
    }
}
