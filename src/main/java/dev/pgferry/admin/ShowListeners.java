package dev.pgferry.admin;

import dev.pgferry.notify.ListenerView;
import dev.pgferry.notify.NotifyStats;
import java.util.ArrayList;
import java.util.List;

/**
 * SHOW LISTENERS, pgferry's own (PgBouncer pins LISTEN and has no such connection): one row per database whose
 * clients LISTENed through the fan-out ({@code pgferry.pool.listen=fanout}), its listener connection as the operator
 * looks for it in {@code pg_stat_activity} ({@code application_name} "pgferry listener", {@code pid}): the login it
 * uses, its state ({@code open}, {@code connecting}, {@code waiting_to_retry} after a loss, {@code closed} when no
 * channel is left), the channels it LISTENs on and the clients subscribed to them. The process-wide counters follow
 * on each row: notifications delivered and dropped, listener connections lost and reopened, clients closed for
 * {@code pgferry.notify.max-queued}.
 */
final class ShowListeners implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHOW", "LISTENERS");
    }

    @Override
    public String help() {
        return "SHOW LISTENERS: the LISTEN fan-out's connection per database, its channels and subscribed clients";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        NotifyStats stats = admin.sc.notifications().stats();
        List<List<String>> rows = new ArrayList<>();
        for (ListenerView v : admin.sc.notifications().views()) {
            rows.add(List.of(v.database(), v.user(), v.state(), Integer.toString(v.pid()),
                    Integer.toString(v.channels()), Integer.toString(v.subscribers()),
                    Long.toString(stats.delivered.sum()), Long.toString(stats.dropped.sum()),
                    Long.toString(stats.listenerReconnects.sum()), Long.toString(stats.slowClientsClosed.sum())));
        }
        return AdminResult.rows(List.of("database", "user", "state", "pid", "channels", "subscribers", "delivered",
                "dropped", "reconnects", "slow_clients_closed"), rows);
    }
}
