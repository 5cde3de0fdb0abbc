package dev.pgferry.pool;

import dev.pgferry.backend.BackendCredentials;
import dev.pgferry.backend.BackendException;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.hosts.TargetRole;
import dev.pgferry.protocol.SqlState;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.util.Map;

/**
 * What a {@link Pool} does for its database's {@code hosts} list: backends whose host no longer has the wanted role
 * are closed (idle ones when the role changes, busy ones at release), each backend is counted on its host, and a
 * write refused with 25006 has the host's role asked again at once. Without a list (a null roster) every backend
 * fits and the pool's path stays that of one server.
 */
final class PoolHosts {
    private final Pool pool;
    /** The database's hosts and their roles; null for a database of one host. */
    final HostRoster roster;

    PoolHosts(Pool pool, HostRoster roster) {
        this.pool = pool;
        this.roster = roster;
    }

    /** Starts following role changes; once the pool's shards exist, since a change may come on any thread at once. */
    void watch() {
        if (roster != null) {
            // a host that changed role: its idle backends go now, busy ones at release (expired); waiters get the
            // host that fits now, e.g. a promoted standby
            roster.onChange(() -> pool.onEveryLoop(s -> {
                pool.closeIdleIf(s, c -> !fits(c));
                if (!s.waiters.isEmpty() && !pool.control.paused()) {
                    pool.serveWaiters(s);
                }
            }));
        }
    }

    /**
     * Whether {@code c} may still be leased: opened over this list (not one a RELOAD replaced) to a host that has a
     * role the database wants now.
     */
    boolean fits(ServerConnection c) {
        if (roster == null) {
            return c.hostList() == null;
        }
        return c.hostList() == roster && roster.fits(c.host());
    }

    /** {@code c} is closed or given up: its host has one backend less, in the list it was opened over. */
    static void closed(ServerConnection c) {
        if (c.hostList() instanceof HostRoster opened && c.host() >= 0) {
            opened.closed(c.host());
        }
    }

    /** A backend had a write refused (25006): for a read-write database its host may be a standby now, asked now. */
    static void refusedWrite(ServerConnection c) {
        if (c.hostList() instanceof HostRoster opened
                && (opened.target() == TargetRole.READ_WRITE || opened.target() == TargetRole.PRIMARY)) {
            opened.suspect(c.host());
        }
    }

    /** Opens a passthrough login's backend on the pool's server, or on the host of the list chosen now. */
    Future<ServerConnection> openWithRelay(EventLoop loop, BackendCredentials.Relay relay) {
        if (roster == null) {
            return pool.growth().connector().connect(loop, pool.target(), relay, Map.of());
        }
        int host = roster.next();
        if (host < 0) {
            return loop.newFailedFuture(new BackendException(SqlState.CONNECTION_FAILURE,
                    "pgferry: no server of database \"" + pool.key().database() + "\" is " + roster.target().word()
                            + " now", false, null));
        }
        Future<ServerConnection> f = pool.growth().connector().connect(loop,
                roster.backendTarget(host, pool.target().database()), relay, Map.of());
        f.addListener(done -> {
            if (done.isSuccess()) {
                ((ServerConnection) done.getNow()).host(host, roster);
                roster.opened(host);
            }
        });
        return f;
    }
}
