package dev.pgferry.observability.health;

import dev.pgferry.backend.BackendTarget;
import dev.pgferry.config.PgferryConfig;
import java.util.ArrayList;
import java.util.List;

/** A configured database as readiness sees it: the name clients use and the server it leads to. */
record ProbeTarget(String name, BackendTarget target) {

    /**
     * The default backend (probed as {@code pgferry.health.default-database}, unless it serves no unlisted name) and
     * each {@code pgferry.databases.<name>} with one server.
     */
    static List<ProbeTarget> all(PgferryConfig config) {
        List<ProbeTarget> out = new ArrayList<>();
        String defaultDb = config.health().defaultDatabase();
        if (config.backend().serveUnlisted() && !config.databases().containsKey(defaultDb)) {
            out.add(new ProbeTarget(defaultDb,
                    new BackendTarget(config.backend().host(), config.backend().port(), defaultDb)));
        }
        config.databases().forEach((name, db) -> {
            if (db.hosts().isEmpty()) { // a host list's servers are watched by their role checks (HostRoles)
                out.add(new ProbeTarget(name, new BackendTarget(db.host().orElse(config.backend().host()),
                        db.port().isPresent() ? db.port().getAsInt() : config.backend().port(),
                        db.dbname().orElse(name))));
            }
        });
        return List.copyOf(out);
    }
}
