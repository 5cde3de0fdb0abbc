package dev.pgferry.pool;

import dev.pgferry.backend.BackendTarget;
import dev.pgferry.hosts.HostChoice;
import dev.pgferry.hosts.HostList;
import dev.pgferry.hosts.HostRole;
import dev.pgferry.hosts.TargetRole;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The hosts of one database with their last seen role and open backend count: where the pool's next new backend
 * goes ({@link #next}). Role checks write {@link #role(int, HostRole)}; the pool reports {@link #opened}/{@link #closed}.
 * Lock-free: any loop may choose while a check updates a role.
 */
public final class HostRoster {

    private final List<HostList.Address> hosts;
    private final TargetRole target;
    private final AtomicReferenceArray<HostRole> roles;
    private final AtomicIntegerArray connections;
    private final AtomicInteger cursor = new AtomicInteger();

    public HostRoster(List<HostList.Address> hosts, TargetRole target) {
        this.hosts = List.copyOf(hosts);
        this.target = target;
        this.roles = new AtomicReferenceArray<>(this.hosts.size());
        this.connections = new AtomicIntegerArray(this.hosts.size());
        for (int i = 0; i < this.hosts.size(); i++) {
            roles.set(i, HostRole.UNKNOWN);
        }
    }

    public List<HostList.Address> hosts() {
        return hosts;
    }

    public TargetRole target() {
        return target;
    }

    public HostRole role(int host) {
        return roles.get(host);
    }

    /** Records a check's answer ({@link HostRole#UNKNOWN} when the host did not answer); true if the role changed. */
    public boolean role(int host, HostRole role) {
        return roles.getAndSet(host, role) != role;
    }

    /** The index of the host for the next new backend, or {@link HostChoice#NONE} when none serves the target now. */
    public int next() {
        List<HostChoice.Candidate> now = new ArrayList<>(hosts.size());
        for (int i = 0; i < hosts.size(); i++) {
            now.add(new HostChoice.Candidate(roles.get(i), connections.get(i)));
        }
        return HostChoice.choose(now, target, cursor.getAndIncrement());
    }

    /** Where a backend to {@code host} connects, opening {@code database}. */
    public BackendTarget backendTarget(int host, String database) {
        HostList.Address a = hosts.get(host);
        return new BackendTarget(a.host(), a.port(), database);
    }

    public void opened(int host) {
        connections.incrementAndGet(host);
    }

    public void closed(int host) {
        connections.decrementAndGet(host);
    }
}
