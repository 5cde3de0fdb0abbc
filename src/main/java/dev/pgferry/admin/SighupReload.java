package dev.pgferry.admin;

import dev.pgferry.config.ReloadSignal;
import dev.pgferry.session.SessionContext;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * SIGHUP re-reads what RELOAD re-reads ({@link ConfigReload}: the pgbouncer.ini or properties file, the users file,
 * the HBA file) and applies it, as PgBouncer's SIGHUP does; each outcome is one log line. Where the JVM cannot take
 * the signal (Windows, {@code -Xrs}, a handler already installed) pgferry logs that and RELOAD remains.
 */
@ApplicationScoped
public class SighupReload {
    private static final Logger LOG = Logger.getLogger(SighupReload.class);

    @Inject
    AdminDatabase admin;

    void onStart(@Observes StartupEvent event) {
        try {
            ReloadSignal.handle(this::reload);
        } catch (ReflectiveOperationException | IllegalArgumentException | UnsupportedOperationException
                | LinkageError e) {
            Throwable why = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            LOG.infof("SIGHUP cannot be handled here (%s): use RELOAD on the admin console", why);
        }
    }

    private void reload() {
        SessionContext sessions = admin.sessions();
        if (sessions == null) {
            LOG.info("SIGHUP before the listener started: ignored (nothing to reload yet)");
            return;
        }
        ConfigReload.Outcome outcome = ConfigReload.run(sessions);
        outcome.done().forEach(line -> LOG.infof("SIGHUP: %s", line));
        outcome.failed().forEach(line -> LOG.errorf("SIGHUP: %s", line));
    }
}
