package dev.pgferry.admin;

import dev.pgferry.pool.HostRoles;
import dev.pgferry.pool.HostRoster;
import dev.pgferry.pool.Pool;
import dev.pgferry.session.ClientCounts;
import java.util.ArrayList;
import java.util.List;

/**
 * SHOW POOLS, PgBouncer's columns: {@code cl_active} counts clients not waiting for a backend (holding one or
 * idle between transactions), {@code cl_waiting} the pool's wait queue (as PgBouncer's, it includes a client still
 * logging in, which waits for a backend when the pool has yet to learn the server's parameters),
 * {@code sv_login} backends being opened. pgferry tests no backend before reuse
 * unless it was idle long, so {@code sv_used} and {@code sv_tested} stay 0.
 * The cancel columns sit where PgBouncer has them (its admin.c): {@code sv_being_canceled} counts backends
 * given back while a cancel forwarded for them is in flight, held out of the pool until the server closes the cancel
 * connection; {@code cl_active_cancel_req} and {@code sv_active_cancel} both count the cancels forwarded and not yet
 * over, since pgferry forwards each client's CancelRequest at once on a connection of its own, so
 * {@code cl_waiting_cancel_req} (cancels waiting for such a connection) stays 0. After PgBouncer's columns, for a
 * database with a {@code hosts} list, and only when one has (so the output stays PgBouncer's exactly otherwise,
 * for the tools that parse it): its {@code target_role}, and {@code hosts}, each host with its role and the
 * database's backends there.
 */
final class ShowPools implements AdminCommand {
    private final ClientCounts clients;

    ShowPools(ClientCounts clients) {
        this.clients = clients;
    }

    @Override
    public List<String> words() {
        return List.of("SHOW", "POOLS");
    }

    @Override
    public String help() {
        return "SHOW POOLS: clients and backends of each (database, user) pool";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        List<List<String>> rows = new ArrayList<>();
        boolean hostLists = HostLists.any(admin.pools());
        for (Pool p : admin.pools()) {
            Pool.PoolCounts n = p.stats().counts();
            ClientCounts.Counts c = clients.of(p.key());
            long waitMicros = n.maxWaitNanos() / 1000;
            rows.add(java.util.Arrays.asList(p.key().database(), p.key().user(), str(c.active() + c.idle()), str(n.waiting()),
                    str(n.cancelsForwarded()), "0", str(n.active()), str(n.cancelsForwarded()),
                    str(n.beingCanceled()), str(n.idle()), "0", "0", str(n.connecting()),
                    str(waitMicros / 1_000_000), str(waitMicros % 1_000_000),
                    p.settings().mode().name().toLowerCase(), p.control().paused() ? "1" : "0",
                    p.roster() == null ? null : p.roster().target().word(), hosts(p.roster())));
        }
        List<String> columns = List.of("database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req",
                "cl_waiting_cancel_req", "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used",
                "sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode", "paused", "target_role", "hosts");
        return HostLists.result(columns, rows, hostLists, 2);
    }

    /** {@code host:port role backends, ...} of a {@code hosts} list, the roles as last checked; NULL without one. */
    private static String hosts(HostRoster roster) {
        if (roster == null) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < roster.hosts().size(); i++) {
            b.append(i == 0 ? "" : ", ").append(roster.hosts().get(i)).append(' ')
                    .append(HostRoles.word(roster.role(i))).append(' ').append(roster.connections(i));
        }
        return b.toString();
    }

    private static String str(long n) {
        return Long.toString(n);
    }
}
