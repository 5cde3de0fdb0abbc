package dev.pgferry.peer;

import dev.pgferry.config.PgferryConfig;
import dev.pgferry.pool.Pools;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * pgferry as one of several replicas (pgferry.peer-id, pgferry.peers or pgferry.peers-dns): routes cancels between
 * them ({@link PeerCancels}), watches which are alive ({@link PeerWatch}) and keeps each database's backends within
 * this replica's share of a cluster budget ({@link ClusterBudget}). Without a peer id, only the budget's total
 * applies (one replica takes all of it) and cancels stay local.
 */
public final class Peering implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Peering.class);

    public final int self;
    public final PeerDirectory directory = new PeerDirectory();
    public final PeerCancels cancels;
    public final ClusterBudget budget;
    private final PeerWatch watch;

    private Peering(int self, PgferryConfig config, Supplier<PgferryConfig> live, ChannelFactory<? extends Channel> tcp,
            String hostname) {
        this.self = self;
        this.cancels = self == 0 ? PeerCancels.NONE : new PeerCancels(self, directory, tcp);
        this.budget = new ClusterBudget(live);
        this.watch = self == 0 ? null : new PeerWatch(self, config, directory, hostname, budget::alive);
    }

    /**
     * Starts peering for {@code config} (the first probe round runs now) and puts every pool's database limit, of the
     * pools there are and those to come, under the budget.
     */
    public static Peering start(PgferryConfig config, Supplier<PgferryConfig> live, ChannelFactory<? extends Channel> tcp,
            Pools pools) {
        String hostname = PeerIdentity.hostname();
        int self = PeerIdentity.of(config, () -> hostname);
        Peering p = new Peering(self, config, live, tcp, hostname);
        if (self == 0) {
            p.budget.alive(1);
        } else {
            LOG.infof("peer %d: peering with %s", self, config.peersDns().map(d -> "the pods of " + d)
                    .orElse("pgferry.peers " + config.peers().keySet()));
            p.watch.start();
        }
        pools.onPool(pool -> p.budget.track(pool.key().database(), pool.growth().databaseLimit()));
        return p;
    }

    @Override
    public void close() {
        if (watch != null) {
            watch.close();
        }
    }
}
