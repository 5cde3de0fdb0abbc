package dev.pgferry.peer;

import java.net.InetSocketAddress;
import java.util.Map;

/**
 * The peers this replica knows: the address of each by id, and how many replicas are alive, this one included. Written
 * by {@link PeerWatch} as a whole, read from any thread (a CancelRequest on an event loop, the budget).
 */
public final class PeerDirectory {
    private volatile Map<Integer, InetSocketAddress> addresses = Map.of();
    private volatile int alive = 1;

    /** The address of peer {@code id}, resolved; null when it is not known. */
    public InetSocketAddress address(int id) {
        return addresses.get(id);
    }

    public boolean knows(int id) {
        return addresses.containsKey(id);
    }

    /** Replicas alive as last seen, this one included: at least 1. */
    public int alive() {
        return alive;
    }

    public Map<Integer, InetSocketAddress> addresses() {
        return addresses;
    }

    void update(Map<Integer, InetSocketAddress> addresses, int alive) {
        this.addresses = Map.copyOf(addresses);
        this.alive = Math.max(1, alive);
    }
}
