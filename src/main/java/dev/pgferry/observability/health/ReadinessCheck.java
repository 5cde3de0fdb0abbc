package dev.pgferry.observability.health;

import dev.pgferry.pool.HostRoles;
import dev.pgferry.pool.HostRoster;
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
 * connection within {@code pgferry.health.backend-check-interval}, and every database with a {@code hosts} list has a
 * host of its target role answering its role check. The data names each database and its last error, or each host
 * and its role.
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
        HostRoles roles = server.hostRoles();
        if (roles != null) {
            for (HostRoster roster : roles.rosters()) {
                boolean served = roster.anyFits() || roles.awaitingFirstLogin(roster);
                up &= served;
                r.withData("database " + roster.database(), describe(roster, roles, served));
            }
        }
        return r.status(up).build();
    }

    /**
     * A database with a host list is UP while a host of its target role answers; either way each host with the role
     * its last check found, or why it did not answer.
     */
    private static String describe(HostRoster roster, HostRoles roles, boolean served) {
        StringBuilder b = new StringBuilder(!served ? "DOWN, no " + roster.target().word() + " host answers"
                : roster.anyFits() ? "UP" : "UP, roles known at the first client's login").append(": ");
        for (int i = 0; i < roster.hosts().size(); i++) {
            HostRoles.HostStatus h = roles.status(roster.hosts().get(i));
            b.append(i == 0 ? "" : "; ").append(h.address()).append(' ').append(HostRoles.word(h.role()));
            if (h.lastError() != null) {
                b.append(" (").append(h.lastError()).append(')');
            } else if (h.lagMillis() > 0) {
                b.append(" (").append(h.lagMillis()).append(" ms behind)");
            }
        }
        return b.toString();
    }

    private static String describe(BackendProbe.DatabaseStatus s) {
        String ok = s.lastOkMillisAgo() < 0 ? "never connected" : "last connected " + s.lastOkMillisAgo() + " ms ago";
        String state = s.reachable() ? "UP" : "DOWN";
        return s.lastError() == null ? state + ", " + ok : state + ", " + ok + ", last error: " + s.lastError();
    }
}
