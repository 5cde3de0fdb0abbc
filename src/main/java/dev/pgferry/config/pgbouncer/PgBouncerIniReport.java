package dev.pgferry.config.pgbouncer;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Says at start what pgferry took from pgferry.pgbouncer-ini: one INFO line, and one WARN line listing every key it
 * does not support (with file and line), as the issue asks, so that nothing the operator relied on is dropped
 * silently. The file was already read and accepted by {@link PgBouncerIniConfigSourceFactory} (a refused one stops the
 * start there); it is read again here, where logging is set up.
 */
@ApplicationScoped
public class PgBouncerIniReport {
    private static final Logger LOG = Logger.getLogger(PgBouncerIniReport.class);

    /**
     * {@code pgferry.pgbouncer-ini} read as a plain property, not through {@code PgferryConfig}: this package is a
     * source of that mapping, below it, and does not import it (no cycle between config and config.pgbouncer).
     */
    @ConfigProperty(name = PgBouncerIniConfigSourceFactory.PROPERTY)
    Optional<String> ini;

    void onStart(@Observes @Priority(90) StartupEvent event) {
        ini.filter(s -> !s.isBlank()).map(Path::of).ifPresent(this::report);
    }

    private void report(Path ini) {
        IniMapping.Result r = IniMapping.map(ini);
        long fromFile = r.settings().values().stream().filter(s -> s.origin() != null).count();
        LOG.infof("pgferry.pgbouncer-ini %s: %d settings from %s, PgBouncer's defaults for %d keys it leaves out;"
                + " explicit pgferry.* settings win (SHOW CONFIG shows each value's source)", ini, fromFile,
                r.files().size() == 1 ? "it" : r.files(), r.settings().size() - fromFile);
        if (!r.unsupported().isEmpty()) {
            LOG.warnf("pgferry.pgbouncer-ini %s: %d keys pgferry does not support, ignored: %s", ini,
                    r.unsupported().size(), String.join(", ", r.unsupported()));
        }
    }
}
