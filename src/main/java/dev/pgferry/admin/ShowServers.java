package dev.pgferry.admin;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.HostRoles;
import dev.pgferry.pool.HostRoster;
import dev.pgferry.pool.Pool;
import dev.pgferry.pool.PoolKey;
import dev.pgferry.session.ClientControl;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * SHOW SERVERS: backends leased to a client (found through the sessions), idle ones, and, in state
 * {@code being_canceled} as PgBouncer's, those held out of the pool until a cancel forwarded for them is over (both
 * copied from each pool on its own event loops; a loop that does not answer within a second leaves its out). After
 * PgBouncer's columns, {@code role}: the role of the backend's host, for a database with a {@code hosts} list, and
 * only when one has (see {@link HostLists}).
 */
final class ShowServers implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHOW", "SERVERS");
    }

    @Override
    public String help() {
        return "SHOW SERVERS: each backend connection, active, idle or being_canceled";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        List<List<String>> rows = new ArrayList<>();
        for (ClientControl s : admin.sc.loggedInClients()) {
            ServerConnection c = s.backend();
            if (c != null) {
                rows.add(row(c, s.pool(), "active", s.id()));
            }
        }
        for (Pool p : admin.pools()) {
            List<ServerConnection> idle;
            try {
                idle = p.stats().idleConnections().get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                continue;
            }
            for (ServerConnection c : idle) {
                rows.add(row(c, p, "idle", null));
            }
            List<ServerConnection> held;
            try {
                held = p.stats().beingCanceledConnections().get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                continue;
            }
            for (ServerConnection c : held) {
                rows.add(row(c, p, "being_canceled", null));
            }
        }
        List<String> columns = List.of("type", "user", "database", "state", "addr", "port", "local_addr",
                "local_port", "connect_time", "request_time", "remote_pid", "link", "id", "role");
        return HostLists.result(columns, rows, HostLists.any(admin.pools()), 1);
    }

    private static List<String> row(ServerConnection c, Pool pool, String state, String link) {
        PoolKey key = pool.key();
        // a Unix-socket backend shows as PgBouncer shows one: addr and local_addr unix, the server's port
        boolean unix = c.target().unixSocket();
        String port = Integer.toString(c.target().port());
        String[] local = unix ? new String[] {"unix", port} : AdminContext.hostPort(c.channel().localAddress());
        return Arrays.asList("S", key.user(), key.database(), state, unix ? "unix" : c.target().host(),
                port, local[0], local[1],
                AdminContext.time(AdminContext.epochMillis(c.createdNanos())),
                AdminContext.time(AdminContext.epochMillis(c.lastUsedNanos())), Integer.toString(c.processId()), link,
                "S-" + c.id(), role(c, pool));
    }

    /** The role its host had at the last check, for a database with a {@code hosts} list; NULL otherwise. */
    private static String role(ServerConnection c, Pool pool) {
        HostRoster roster = pool.roster();
        return roster == null || c.host() < 0 ? null : HostRoles.word(roster.role(c.host()));
    }
}
