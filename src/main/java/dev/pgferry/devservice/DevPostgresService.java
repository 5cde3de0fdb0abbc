package dev.pgferry.devservice;

import dev.pgferry.config.PgferryConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Dev mode's backend: when {@code pgferry.dev-postgres.enabled} (the {@code %dev} profile) starts a throwaway
 * {@link LocalPostgres} on {@code pgferry.backend.port} before anything else starts, writes the users file
 * pgferry authenticates clients with, and stops the cluster on shutdown.
 */
@ApplicationScoped
public class DevPostgresService {

    private static final Logger LOG = Logger.getLogger(DevPostgresService.class);

    private final PgferryConfig config;
    private LocalPostgres postgres;

    public DevPostgresService(PgferryConfig config) {
        this.config = config;
    }

    /** Priority 1: observers run in ascending priority, so the backend exists before the listener opens. */
    void onStart(@Observes @Priority(1) StartupEvent event) {
        PgferryConfig.DevPostgres dev = config.devPostgres();
        if (!dev.enabled()) {
            return;
        }
        try {
            postgres = LocalPostgres.start(dev.directory(), config.backend().port(), dev.password());
        } catch (PostgresNotInstalledException e) {
            LOG.errorf("Dev mode needs PostgreSQL server binaries. Install them: %s", PostgresBinaries.installCommand());
            throw e;
        }
        Path usersFile = config.auth().usersFile().orElse(dev.directory().resolve("userlist.txt"));
        List<DbUser> users = new ArrayList<>();
        users.add(new DbUser(LocalPostgres.SUPERUSER, dev.password(), "scram-sha-256"));
        users.addAll(DevRoles.USERS);
        UserlistFile.write(usersFile, users);
    }

    /**
     * Priority 200, after the listener's (100): the line to paste is shown only once pgferry listens. When an earlier
     * observer fails (the port is taken), this one does not run.
     */
    void onListening(@Observes @Priority(200) StartupEvent event) {
        if (postgres != null) {
            LOG.infof("Connect through pgferry: %s", psqlLine(config.devPostgres().password()));
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        stop();
    }

    /**
     * Also when the start failed: Quarkus fires no ShutdownEvent after a StartupEvent observer threw (its shutdown
     * event is registered only once StartupEvent has gone round), but it still destroys the beans, so a cluster
     * started for a pgferry that never listened does not outlive it.
     */
    @PreDestroy
    synchronized void stop() {
        if (postgres != null) {
            LOG.infof("stopping the dev PostgreSQL in %s", postgres.directory());
            postgres.stop();
            postgres = null;
        }
    }

    /** {@code psql "postgres://postgres:<password>@<listen host>:<listen port>/postgres"}, ready to paste. */
    String psqlLine(String password) {
        String host = config.listenHost();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            host = "127.0.0.1"; // a wildcard is where pgferry listens, not where a client connects
        } else if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "psql \"postgres://" + LocalPostgres.SUPERUSER + ":"
                + URLEncoder.encode(password, StandardCharsets.UTF_8).replace("+", "%20") + "@" + host + ":"
                + config.listenPort() + "/postgres\"";
    }
}
