package dev.pgferry.observability.metrics;

import dev.pgferry.config.PgferryConfig;
import dev.pgferry.peer.Peering;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Queue;
import java.util.function.Supplier;

/**
 * The meters of peering: cancels forwarded to and dropped for other replicas, the replicas alive, and this replica's
 * share of each cluster budget. The share is tagged with the database names of the configuration only ({@code *}
 * for the default budget), never a name a client sent.
 */
final class PeerMeters {
    private PeerMeters() {}

    static void register(MeterRegistry registry, Supplier<Peering> peering, Supplier<PgferryConfig> config,
            Queue<Meter> registered) {
        registered.add(FunctionCounter.builder("pgferry.peer.cancels.forwarded", peering,
                        p -> p.get().cancels.forwarded.sum())
                .description("CancelRequests whose key another replica issued, forwarded to it (pgferry.peers)")
                .register(registry));
        registered.add(FunctionCounter.builder("pgferry.peer.cancels.dropped", peering,
                        p -> p.get().cancels.dropped.sum())
                .description("CancelRequests dropped: their key is of a peer not known, or they were forwarded once"
                        + " already")
                .register(registry));
        registered.add(Gauge.builder("pgferry.peer.alive", peering, p -> p.get().directory.alive())
                .description("Replicas alive as this one last saw them, itself included").strongReference(true)
                .register(registry));
        registered.add(Gauge.builder("pgferry.cluster.share", peering, p -> p.get().budget.share("*"))
                .description("This replica's share of pgferry.pool.cluster-max-db-connections (0: no cluster budget),"
                        + " per database")
                .tag("database", "*").strongReference(true).register(registry));
        config.get().databases().forEach((name, db) -> {
            if (db.clusterMaxDbConnections().isPresent()) {
                registered.add(Gauge.builder("pgferry.cluster.share", peering, p -> p.get().budget.share(name))
                        .description("This replica's share of pgferry.pool.cluster-max-db-connections (0: no cluster"
                                + " budget), per database")
                        .tag("database", name).strongReference(true).register(registry));
            }
        });
    }
}
