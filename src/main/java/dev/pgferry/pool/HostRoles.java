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
    /** A client's login the checks use when the configuration names no user with a usable secret; null until then. */
    private volatile CheckLogin learned;

    /** Whom a check logs in as, and which database it opens. */
    public record CheckLogin(BackendCredentials credentials, String database) {
    }

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
        return rosters.computeIfAbsent(database, d -> newRoster(d, hosts, target, maxLag));
    }

    /**
     * After a RELOAD: the roster of {@code database} for its list now ({@code hosts} null: it has none any more), the
     * same roster while nothing changed, else a new one; checks of servers no list names any more stop.
     */
    public synchronized HostRoster relist(String database, List<HostList.Address> hosts, TargetRole target,
            Duration maxLag) {
        HostRoster old = rosters.get(database);
        if (old != null && hosts != null && old.hosts().equals(hosts) && old.target() == target
                && java.util.Objects.equals(old.maxLag(), maxLag)) {
            return old;
        }
        HostRoster now = hosts == null ? null : newRoster(database, hosts, target, maxLag);
        if (now == null) {
            rosters.remove(database);
        } else {
            rosters.put(database, now);
        }
        if (old != null) {
            members.values().forEach(list -> list.removeIf(m -> m.roster == old));
            members.entrySet().removeIf(e -> {
                if (e.getValue().isEmpty()) {
                    HostCheck c = checks.remove(e.getKey());
                    if (c != null) {
                        c.stop();
                    }
                    return true;
                }
                return false;
            });
        }
        return now;
    }

    private HostRoster newRoster(String database, List<HostList.Address> hosts, TargetRole target, Duration maxLag) {
        HostRoster r = new HostRoster(database, hosts, target, maxLag);
        for (int i = 0; i < hosts.size(); i++) {
            HostList.Address a = hosts.get(i);
            members.computeIfAbsent(a, x -> new CopyOnWriteArrayList<>()).add(new Member(r, i));
            HostCheck check = checks.computeIfAbsent(a, this::newCheck);
            r.role(i, check.role(), check.lagMillis());
        }
        r.recheckWith(i -> {
            HostCheck c = checks.get(r.hosts().get(i));
            if (c != null) { // null: a RELOAD took the host out of every list
                c.checkNow();
            }
        });
        r.loginsWith(this::learn);
        return r;
    }

    /** The roster made for {@code database}, or null when it has no host list. */
    public HostRoster roster(String database) {
        return rosters.get(database);
    }

    public List<HostRoster> rosters() {
        return List.copyOf(rosters.values());
    }

    /**
     * With a users file of SCRAM verifiers only and no {@code health.check-user}, pgferry has no secret of its own to
     * log in with, so the checks can only see that a server answers. The first client login that proves a secret a
     * backend accepts (a password, an MD5 hash, or the SCRAM keys recovered from its proof) is then what the checks log
     * in as, opening that client's database; hosts whose role is not known yet are asked at once.
     */
    void learn(BackendCredentials who, String database) {
        if (learned != null || !(who instanceof BackendCredentials.Password || who instanceof BackendCredentials.Md5Hash
                || who instanceof BackendCredentials.ScramKeys)) {
            return;
        }
        learned = new CheckLogin(who, database);
        checks.values().forEach(c -> {
            if (c.role() == HostRole.UNKNOWN) {
                c.checkNow();
            }
        });
    }

    /** The configured check user when it has a usable secret, else a client's login once there was one. */
    private CheckLogin login() {
        BackendCredentials configured = credentials.get();
        CheckLogin fromClient = learned;
        if (configured instanceof BackendCredentials.Ping && fromClient != null) {
            return fromClient;
        }
        return new CheckLogin(configured, checkDatabase);
    }

    /**
     * Whether {@code roster}'s roles are unknown only for want of a user to ask them as, while a host answers: the
     * first client's login teaches the checks one, so the database can serve.
     */
    public boolean awaitingFirstLogin(HostRoster roster) {
        if (learned != null || !(credentials.get() instanceof BackendCredentials.Ping)) {
            return false;
        }
        for (HostList.Address a : roster.hosts()) {
            HostCheck c = checks.get(a);
            if (c != null && c.answers() && c.role() == HostRole.UNKNOWN) {
                return true;
            }
        }
        return false;
    }

    private HostCheck newCheck(HostList.Address a) {
        EventLoop loop = loops.get(Math.floorMod(nextLoop.getAndIncrement(), loops.size()));
        HostCheck c = new HostCheck(a, connector, this::login, loop, interval, this::publish);
        c.start();
        return c;
    }

    private void publish(HostCheck c) {
        List<Member> of = members.getOrDefault(c.address, List.of());
        for (Member m : of) {
            m.roster.role(m.index, c.role(), c.lagMillis());
        }
        for (Member m : of) {
            hurryChecksOf(m.roster);
        }
    }

    /**
     * While {@code roster} has no host of its role, its hosts are checked every {@link HostCheck#HURRY_MILLIS}; a host
     * another database still lacks a host on keeps hurrying.
     */
    private void hurryChecksOf(HostRoster roster) {
        for (HostList.Address a : roster.hosts()) {
            HostCheck c = checks.get(a);
            if (c == null) {
                continue;
            }
            boolean lacking = false;
            for (Member m : members.getOrDefault(a, List.of())) {
                lacking |= !m.roster.anyFits();
            }
            c.hurry(lacking);
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
