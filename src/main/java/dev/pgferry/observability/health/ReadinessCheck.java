package dev.pgferry.observability.health;

import dev.pgferry.session.ProxyStatus;
import dev.pgferry.session.SessionStats;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready while the listener is bound, pgferry is not draining, and every configured database answered a check
 * connection within {@code pgferry.health.backend-check-interval}. The data names each database and its last error.
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {
    @Inject
    ProxyStatus server;

    @Inject
    BackendProbe probe;

    @Override
    public HealthCheckResponse call() {
        SessionStats sc = server.context();
        boolean listening = server.listening();
        boolean draining = sc != null && sc.draining();
        HealthCheckResponseBuilder r = HealthCheckResponse.named("pgferry-readiness")
                .withData("listening", listening)
                .withData("draining", draining);
        boolean up = listening && !draining;
        for (BackendProbe.DatabaseStatus s : probe.statuses()) {
            up &= s.reachable();
            r.withData("database " + s.database(), describe(s));
        }
        return r.status(up).build();
    }

    private static String describe(BackendProbe.DatabaseStatus s) {
        String ok = s.lastOkMillisAgo() < 0 ? "never connected" : "last connected " + s.lastOkMillisAgo() + " ms ago";
        String state = s.reachable() ? "UP" : "DOWN";
        return s.lastError() == null ? state + ", " + ok : state + ", " + ok + ", last error: " + s.lastError();
    }
}
