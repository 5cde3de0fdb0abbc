package dev.pgferry.admin;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.Pool;
import dev.pgferry.session.ClientControl;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * SHOW CLIENTS: one row per logged-in client, and per client whose login waits for its pool (admin console connections
 * are not listed).
 */
final class ShowClients implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHOW", "CLIENTS");
    }

    @Override
    public String help() {
        return "SHOW CLIENTS: each client connection, its state and the backend it holds";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        List<Row> rows = new ArrayList<>();
        for (ClientControl s : admin.sc.loggedInClients()) {
            String state = s.state();
            if (state.equals("closed")) {
                continue; // being closed: PgBouncer's client has left its pool's lists then (SHOW POOLS skips it too)
            }
            ServerConnection link = s.backend();
            rows.add(row(s.pool(), s.user(), state(state), s.remoteAddress(), s.connectedMillis(),
                    link == null ? null : "S-" + link.id(), s.id()));
        }
        // PgBouncer lists its CL_WAITING_LOGIN clients (pool->waiting_client_list) 'waiting' too; those still
        // authenticating (login_client_list) only in SHOW SOCKETS, which pgferry has not
        for (ClientControl l : admin.sc.waitingLogins()) {
            Pool pool = l.pool();
            if (pool != null) {
                rows.add(row(pool, l.user(), "waiting", l.remoteAddress(), l.connectedMillis(), null, l.id()));
            }
        }
        rows.sort(Comparator.comparingLong(Row::connectedMillis));
        return AdminResult.rows(List.of("type", "user", "database", "state", "addr", "port", "connect_time",
                "link", "id"), rows.stream().map(Row::cells).toList());
    }

    private record Row(long connectedMillis, List<String> cells) {}

    /**
     * {@code user} is the client's login user, as PgBouncer's SHOW CLIENTS shows it: with a database's forced user not
     * its pool's (SHOW POOLS and SHOW SERVERS show that one).
     */
    private static Row row(Pool pool, String user, String state, String address, long connectedMillis, String link,
            String id) {
        String[] addr = AdminContext.hostPort(address);
        return new Row(connectedMillis, Arrays.asList("C", user, pool.key().database(), state, addr[0],
                addr[1], AdminContext.time(connectedMillis), link, id));
    }

    /** PgBouncer's words: active (holding a backend or ready to), waiting (for a backend). */
    static String state(String sessionState) {
        return switch (sessionState) {
            case "leasing" -> "waiting";
            case "idle" -> "idle";
            default -> "active";
        };
    }
}
