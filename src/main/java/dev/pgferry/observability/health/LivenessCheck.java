package dev.pgferry.observability.health;

import dev.pgferry.session.ProxyStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

/** Live while the PostgreSQL listener is bound and every event loop has run its watchdog tick recently. */
@Liveness
@ApplicationScoped
public class LivenessCheck implements HealthCheck {
    /** A loop that has not run its one-second tick for this long is stuck in some handler. */
    static final long BLOCKED_AFTER_MILLIS = 5000;

    @Inject
    ProxyStatus server;

    @Inject
    EventLoopWatchdog watchdog;

    @Override
    public HealthCheckResponse call() {
        boolean listening = server.listening();
        HealthCheckResponseBuilder r = HealthCheckResponse.named("pgferry-liveness").withData("listening", listening);
        boolean blocked = false;
        for (EventLoopWatchdog.LoopAge age : watchdog.ages()) {
            boolean stuck = age.millisSinceLastRun() > BLOCKED_AFTER_MILLIS;
            blocked |= stuck;
            r.withData(age.loop(), stuck ? "blocked for " + age.millisSinceLastRun() + " ms" : "ok");
        }
        return r.status(listening && !blocked).build();
    }
}
