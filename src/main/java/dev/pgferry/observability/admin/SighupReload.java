package dev.pgferry.observability.admin;

import dev.pgferry.server.ProxyServer;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * SIGHUP re-reads the users file and the HBA file, as RELOAD does (PgBouncer's habit). Where the JVM cannot take the
 * signal (Windows, {@code -Xrs}, a handler already installed) pgferry logs that and RELOAD remains.
 */
@ApplicationScoped
public class SighupReload {
    private static final Logger LOG = Logger.getLogger(SighupReload.class);

    @Inject
    ProxyServer server;

    void onStart(@Observes StartupEvent event) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> reload());
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            LOG.infof("SIGHUP cannot be handled here (%s): use RELOAD on the admin console", e.getMessage());
        }
    }

    private void reload() {
        ConfigReload.Outcome outcome = ConfigReload.run(server.context());
        outcome.done().forEach(line -> LOG.infof("SIGHUP: %s", line));
        outcome.failed().forEach(line -> LOG.errorf("SIGHUP: %s", line));
    }
}
