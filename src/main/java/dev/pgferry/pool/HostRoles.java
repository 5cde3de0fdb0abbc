package dev.pgferry.pool;

import dev.pgferry.backend.BackendConnector;
import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.hosts.HostList;
import dev.pgferry.hosts.HostRole;
import dev.pgferry.hosts.TargetRole;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The role checks of every server named in a {@code hosts} list, one {@link HostCheck} per distinct address however
 * many databases list it (an {@code app} and an {@code app_ro} over the same servers ask each server once), and the
 * {@link HostRoster} of each such database, which every check's answer updates.
 */
public final class HostRoles {

    private final BackendConnector connector;
    private final Supplier<BackendCredentials> credentials;
    private final String checkDatabase;
    private final Duration interval;
    private final List<EventLoop> loops;
    private final AtomicInteger nextLoop = new AtomicInteger();
    private final Map<HostList.Address, HostCheck> checks = new ConcurrentHashMap<>();
    private final Map<HostList.Address, List<Member>> members = new ConcurrentHashMap<>();
    private final Map<String, HostRoster> rosters = new ConcurrentHashMap<>();

    /** A database's roster and the index of a host in its list. */
    private record Member(HostRoster roster, int index) {
    }

    /**
     * @param checkDatabase the database the check connections open ({@code pgferry.health.default-database})
     * @param interval {@code pgferry.health.role-check-interval}
     */
    public HostRoles(BackendConnector connector, Supplier<BackendCredentials> credentials, String checkDatabase,
            Duration interval, List<EventLoop> loops) {
        this.connector = connector;
        this.credentials = credentials;
        this.checkDatabase = checkDatabase;
        this.interval = interval;
        this.loops = List.copyOf(loops);
    }

    /** The roster of {@code database}, made and its hosts' checks started on the first call. */
    public HostRoster roster(String database, List<HostList.Address> hosts, TargetRole target, Duration maxLag) {
        return rosters.computeIfAbsent(database, d -> {
            HostRoster r = new HostRoster(d, hosts, target, maxLag);
            for (int i = 0; i < hosts.size(); i++) {
                HostList.Address a = hosts.get(i);
                members.computeIfAbsent(a, x -> new CopyOnWriteArrayList<>()).add(new Member(r, i));
                HostCheck check = checks.computeIfAbsent(a, this::newCheck);
                r.role(i, check.role(), check.lagMillis());
            }
            r.recheckWith(i -> checks.get(r.hosts().get(i)).checkNow());
            return r;
        });
    }

    /** The roster made for {@code database}, or null when it has no host list. */
    public HostRoster roster(String database) {
        return rosters.get(database);
    }

    public List<HostRoster> rosters() {
        return List.copyOf(rosters.values());
    }

    private HostCheck newCheck(HostList.Address a) {
        EventLoop loop = loops.get(Math.floorMod(nextLoop.getAndIncrement(), loops.size()));
        HostCheck c = new HostCheck(a, checkDatabase, connector, credentials, loop, interval, this::publish);
        c.start();
        return c;
    }

    private void publish(HostCheck c) {
        for (Member m : members.getOrDefault(c.address, List.of())) {
            m.roster.role(m.index, c.role(), c.lagMillis());
        }
    }

    /** What the last check of {@code address} found; null for a host no list names. */
    public HostStatus status(HostList.Address address) {
        HostCheck c = checks.get(address);
        if (c == null) {
            return null;
        }
        long ok = c.lastOkNanos();
        return new HostStatus(address, c.role(), c.lagMillis(), ok == 0 ? -1 : (System.nanoTime() - ok) / 1_000_000,
                c.lastError());
    }

    /** Every checked host, in no particular order. */
    public List<HostStatus> statuses() {
        List<HostStatus> out = new ArrayList<>();
        for (HostList.Address a : checks.keySet()) {
            out.add(status(a));
        }
        return out;
    }

    public void stop() {
        checks.values().forEach(HostCheck::stop);
    }

    /** The role word of a host as SHOW and the metrics print it. */
    public static String word(HostRole role) {
        return HostCheck.word(role);
    }

    /** {@code lastOkMillisAgo} -1: never answered; {@code lastError} null after a successful check. */
    public record HostStatus(HostList.Address address, HostRole role, long lagMillis, long lastOkMillisAgo,
            String lastError) {
    }
}
