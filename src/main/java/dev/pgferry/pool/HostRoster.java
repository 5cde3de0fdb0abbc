package dev.pgferry.pool;

import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.BackendTarget;
import dev.pgferry.hosts.HostChoice;
import dev.pgferry.hosts.HostList;
import dev.pgferry.hosts.HostRole;
import dev.pgferry.hosts.TargetRole;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;

/**
 * The hosts of one database with their last seen role and open backend count: where the pool's next new backend
 * goes ({@link #next}) and whether a backend may still be leased ({@link #fits}). Role checks ({@link HostRoles})
 * write {@link #role(int, HostRole)}; the pools report {@link #opened}/{@link #closed} and learn of role changes
 * through {@link #onChange}. Lock-free: any loop may choose while a check updates a role.
 */
public final class HostRoster {

    private final String database;
    private final List<HostList.Address> hosts;
    private final TargetRole target;
    /** A standby replaying further behind than this is skipped; null: lag does not matter. */
    private final Duration maxLag;
    private final AtomicReferenceArray<HostRole> roles;
    /** Replay lag of each host in milliseconds, as last measured (0 for a primary). */
    private final AtomicLongArray lagMillis;
    private final AtomicIntegerArray connections;
    private final AtomicInteger cursor = new AtomicInteger();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
    private volatile IntConsumer recheck = host -> { };
    private volatile BiConsumer<BackendCredentials, String> learner;

    public HostRoster(List<HostList.Address> hosts, TargetRole target) {
        this("", hosts, target, null);
    }

    public HostRoster(String database, List<HostList.Address> hosts, TargetRole target, Duration maxLag) {
        this.database = database;
        this.hosts = List.copyOf(hosts);
        this.target = target;
        this.maxLag = maxLag;
        this.roles = new AtomicReferenceArray<>(this.hosts.size());
        this.lagMillis = new AtomicLongArray(this.hosts.size());
        this.connections = new AtomicIntegerArray(this.hosts.size());
        for (int i = 0; i < this.hosts.size(); i++) {
            roles.set(i, HostRole.UNKNOWN);
        }
    }

    /** The configured database name whose hosts these are. */
    public String database() {
        return database;
    }

    public List<HostList.Address> hosts() {
        return hosts;
    }

    public TargetRole target() {
        return target;
    }

    /** {@code max-replica-lag}, null when not set. */
    public Duration maxLag() {
        return maxLag;
    }

    public HostRole role(int host) {
        return roles.get(host);
    }

    /** Records a check's answer ({@link HostRole#UNKNOWN} when the host did not answer); true if the role changed. */
    public boolean role(int host, HostRole role) {
        return role(host, role, 0);
    }

    /**
     * Records a check's answer with the host's replay lag; true if what the pools see changed (the role, or whether
     * the lag keeps the host out), and then the {@link #onChange} listeners are told.
     */
    public boolean role(int host, HostRole role, long lag) {
        boolean laggingBefore = lagging(host);
        lagMillis.set(host, lag);
        boolean changed = roles.getAndSet(host, role) != role || lagging(host) != laggingBefore;
        if (changed) {
            changeListeners.forEach(Runnable::run);
        }
        return changed;
    }

    public long lagMillis(int host) {
        return lagMillis.get(host);
    }

    /** Called, on any thread, after any host's role changed: the pools drop the backends that no longer fit. */
    public void onChange(Runnable listener) {
        changeListeners.add(listener);
    }

    /** Where {@link #learned} hands a client's login to the checks (set by {@link HostRoles}). */
    void loginsWith(BiConsumer<BackendCredentials, String> learner) {
        this.learner = learner;
    }

    /** A pool of this database learned how to log in as a client (see {@link HostRoles#learn}). */
    void learned(BackendCredentials who, String database) {
        BiConsumer<BackendCredentials, String> l = learner;
        if (l != null) {
            l.accept(who, database);
        }
    }

    /** Where {@link #suspect} asks for a check at once (set by {@link HostRoles}). */
    void recheckWith(IntConsumer recheck) {
        this.recheck = recheck;
    }

    /** A backend of {@code host} was refused a connect or a write: its role is asked again now, not at the next tick. */
    public void suspect(int host) {
        if (host >= 0) {
            recheck.accept(host);
        }
    }

    /** The index of the host for the next new backend, or {@link HostChoice#NONE} when none serves the target now. */
    public int next() {
        return HostChoice.choose(candidates(), target, cursor.getAndIncrement());
    }

    private List<HostChoice.Candidate> candidates() {
        List<HostChoice.Candidate> now = new ArrayList<>(hosts.size());
        for (int i = 0; i < hosts.size(); i++) {
            now.add(new HostChoice.Candidate(seen(i), connections.get(i)));
        }
        return now;
    }

    /** Whether a backend to {@code host} may be leased now (see {@link HostChoice#fits}). */
    public boolean fits(int host) {
        if (host < 0 || host >= hosts.size()) {
            return false;
        }
        List<HostRole> now = new ArrayList<>(hosts.size());
        for (int i = 0; i < hosts.size(); i++) {
            now.add(seen(i));
        }
        return HostChoice.fits(now, target, host);
    }

    /** Whether some host serves the target now. */
    public boolean anyFits() {
        return HostChoice.choose(candidates(), target, 0) != HostChoice.NONE;
    }

    /** The role the choice works with: a standby too far behind counts as not answering. */
    private HostRole seen(int host) {
        return lagging(host) ? HostRole.UNKNOWN : roles.get(host);
    }

    private boolean lagging(int host) {
        return maxLag != null && roles.get(host) == HostRole.STANDBY && lagMillis.get(host) > maxLag.toMillis();
    }

    /** Where a backend to {@code host} connects, opening {@code database}. */
    public BackendTarget backendTarget(int host, String database) {
        HostList.Address a = hosts.get(host);
        return new BackendTarget(a.host(), a.port(), database);
    }

    public int connections(int host) {
        return connections.get(host);
    }

    public void opened(int host) {
        connections.incrementAndGet(host);
    }

    public void closed(int host) {
        connections.decrementAndGet(host);
    }
}
