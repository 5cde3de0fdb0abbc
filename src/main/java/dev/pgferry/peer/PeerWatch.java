package dev.pgferry.peer;

import dev.pgferry.config.PgferryConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.jboss.logging.Logger;

/**
 * Keeps the {@link PeerDirectory} up to date, every pgferry.peer-probe-interval, on a thread of its own (it resolves
 * names and connects, which block). With pgferry.peers, each peer's port gets a TCP connect: accepted, it is alive;
 * refused (or no route), it is gone; no answer in time or a name that does not resolve now, it keeps what it was last
 * seen as (a partition must not make a replica grow: it keeps its last share). With pgferry.peers-dns the replicas are
 * the addresses of the headless Service, published not-ready too so that a draining pod still counts and still gets
 * its cancels, asked of DNS every round ({@link PeerNames}); a lookup without an answer keeps the last one.
 */
public final class PeerWatch implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PeerWatch.class);

    /** What a probe of one peer said. */
    enum Seen {
        ALIVE,
        GONE,
        /** No answer: counted as it was last seen; alive before any answer (the safe side for a budget). */
        UNKNOWN
    }

    private final int self;
    private final PgferryConfig config;
    private final PeerDirectory directory;
    private final IntConsumer aliveCount;
    private final AliveCount schedule;
    private final int probeTimeoutMillis;
    private final String hostname;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgferry-peers");
        t.setDaemon(true);
        return t;
    });
    /** Touched on the timer thread only. */
    private final Map<Integer, Boolean> lastAlive = new HashMap<>();
    private Map<Integer, InetSocketAddress> lastAddresses = Map.of();
    private int lastSeen = -1;
    /** With pgferry.peers-dns only. */
    private final PeerNames names;

    /** {@code aliveCount} receives the replica count in force (after {@link AliveCount}) after every round. */
    public PeerWatch(int self, PgferryConfig config, PeerDirectory directory, String hostname, IntConsumer aliveCount) {
        this.self = self;
        this.config = config;
        this.directory = directory;
        this.hostname = hostname;
        this.aliveCount = aliveCount;
        long interval = config.peerProbeInterval().toNanos();
        // others need a round to see a newcomer and a second of pool maintenance to close what is over their share
        this.schedule = new AliveCount(2 * interval + TimeUnit.SECONDS.toNanos(1));
        this.probeTimeoutMillis = (int) Math.max(100, Math.min(1000, config.peerProbeInterval().toMillis() / 2));
        this.names = config.peersDns().isPresent() ? new PeerNames(config.peersDnsServer(), probeTimeoutMillis) : null;
    }

    /** One round now (so that cancels can be forwarded from the first login), then one every interval. */
    public void start() {
        round();
        long ms = Math.max(50, config.peerProbeInterval().toMillis());
        timer.scheduleWithFixedDelay(this::round, ms, ms, TimeUnit.MILLISECONDS);
    }

    void round() {
        try {
            int seen = config.peersDns().isPresent() ? resolveService() : probePeers();
            if (seen != lastSeen) {
                LOG.infof("peer %d: %d replicas alive (this one included), peers %s", self, seen,
                        directory.addresses().keySet());
                lastSeen = seen;
            }
            aliveCount.accept(schedule.next(seen, System.nanoTime()));
        } catch (RuntimeException e) {
            LOG.warnf("peer %d: probing the peers failed: %s", self, e.toString());
        }
    }

    private int probePeers() {
        Map<Integer, InetSocketAddress> addresses = new HashMap<>();
        int alive = 1;
        for (Map.Entry<String, PgferryConfig.Peer> e : config.peers().entrySet()) {
            int id = PeerIdentity.checked(Integer.parseInt(e.getKey().trim()), "pgferry.peers.\"" + e.getKey() + "\"");
            if (id == self) {
                continue; // one list for every replica, each skipping itself
            }
            InetSocketAddress to = resolve(e.getValue().host(), e.getValue().port(), id);
            if (to != null) {
                addresses.put(id, to);
            }
            Seen s = to == null ? Seen.UNKNOWN : probe(to);
            boolean up = s == Seen.UNKNOWN ? lastAlive.getOrDefault(id, true) : s == Seen.ALIVE;
            lastAlive.put(id, up);
            alive += up ? 1 : 0;
        }
        lastAddresses = addresses;
        directory.update(addresses, alive);
        return alive;
    }

    private InetSocketAddress resolve(String host, int port, int id) {
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            InetSocketAddress last = lastAddresses.get(id);
            LOG.debugf("peer %d: %s does not resolve now (%s)", id, host, e.getMessage());
            return last;
        }
    }

    private Seen probe(InetSocketAddress to) {
        try (Socket s = new Socket()) {
            s.connect(to, probeTimeoutMillis);
            return Seen.ALIVE;
        } catch (ConnectException | NoRouteToHostException e) {
            return Seen.GONE;
        } catch (IOException e) {
            return Seen.UNKNOWN;
        }
    }

    /** pgferry.peers-dns: the Service's addresses are the replicas; peer N is {@code <statefulset>-<N-1>.<service>}. */
    private int resolveService() {
        String spec = config.peersDns().get();
        int colon = spec.lastIndexOf(':');
        String service = colon < 0 ? spec : spec.substring(0, colon);
        int port = colon < 0 ? config.listenPort() : Integer.parseInt(spec.substring(colon + 1));
        List<InetAddress> all;
        try {
            all = names.all(service);
        } catch (IOException e) {
            LOG.debugf("peer %d: %s: the last answer stays", self, e.getMessage());
            return directory.alive();
        }
        if (all.isEmpty()) { // as an error: a Service has at least this pod, which is published before it is ready
            LOG.debugf("peer %d: %s has no address now: the last answer stays", self, service);
            return directory.alive();
        }
        String set = PeerIdentity.statefulSet(hostname);
        Map<Integer, InetSocketAddress> addresses = new HashMap<>(directory.addresses());
        // ordinals are dense from 0; look a little past the count for a pod whose address is not published yet
        int highest = Math.max(all.size() + 1, addresses.keySet().stream().mapToInt(i -> i).max().orElse(0));
        for (int ordinal = 0; ordinal <= highest && ordinal < PeerKey.MAX_PEER_ID; ordinal++) {
            int id = ordinal + 1;
            if (id == self) {
                continue;
            }
            String pod = set + "-" + ordinal + "." + service;
            try {
                List<InetAddress> at = names.all(pod);
                if (at.isEmpty()) {
                    addresses.remove(id); // gone from the Service: its cancels are dropped
                } else {
                    addresses.put(id, new InetSocketAddress(at.get(0), port));
                }
            } catch (IOException e) {
                LOG.debugf("peer %d: %s: peer %d stays as it was", (Object) self, e.getMessage(), id);
            }
        }
        int alive = all.size();
        directory.update(addresses, alive);
        return alive;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        if (names != null) {
            names.close();
        }
    }
}
