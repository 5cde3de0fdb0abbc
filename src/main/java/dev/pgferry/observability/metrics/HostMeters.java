package dev.pgferry.observability.metrics;

import dev.pgferry.hosts.HostList;
import dev.pgferry.hosts.HostRole;
import dev.pgferry.pool.HostRoles;
import dev.pgferry.pool.HostRoster;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashSet;
import java.util.Queue;
import java.util.Set;

/**
 * The meters of the servers of the {@code hosts} lists, tagged {@code host} (an address of the configuration, never
 * one a client sent) and {@code role}: {@code pgferry.host.role} is 1 for the role the host had at its last check and
 * 0 for the others, so a failover shows as two series crossing rather than a series that vanishes.
 */
final class HostMeters {
    private HostMeters() {}

    static void register(MeterRegistry registry, HostRoles roles, Queue<Meter> registered) {
        if (roles == null) {
            return;
        }
        Set<HostList.Address> seen = new HashSet<>();
        for (HostRoster roster : roles.rosters()) {
            for (int i = 0; i < roster.hosts().size(); i++) {
                HostList.Address a = roster.hosts().get(i);
                int index = i;
                registered.add(Gauge.builder("pgferry.host.backends", roster, r -> r.connections(index))
                        .description("Backends of the database open or being opened to the host")
                        .tags("database", roster.database(), "host", a.toString())
                        .strongReference(true).register(registry));
                if (!seen.add(a)) {
                    continue;
                }
                for (HostRole role : HostRole.values()) {
                    registered.add(Gauge.builder("pgferry.host.role", roles, r -> r.status(a).role() == role ? 1 : 0)
                            .description("1 for the role the host had at its last role check (unknown: it did not"
                                    + " answer), 0 for the others")
                            .tags("host", a.toString(), "role", HostRoles.word(role)).strongReference(true)
                            .register(registry));
                }
                registered.add(Gauge.builder("pgferry.host.replica.lag", roles, r -> r.status(a).lagMillis() / 1e3)
                        .description("How far the host replays behind, as of its last role check (0 for a primary)")
                        .tags("host", a.toString()).baseUnit("seconds").strongReference(true)
                        .register(registry));
            }
        }
    }
}
