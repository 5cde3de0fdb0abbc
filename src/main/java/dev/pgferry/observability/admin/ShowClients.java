package dev.pgferry.observability.admin;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.session.ClientSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** SHOW CLIENTS: one row per logged-in client (admin console connections are not listed). */
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
        List<ClientSession> sessions = new ArrayList<>(admin.sc.sessions);
        sessions.sort(Comparator.comparingLong(ClientSession::connectedMillis));
        List<List<String>> rows = new ArrayList<>();
        for (ClientSession s : sessions) {
            String[] addr = AdminContext.hostPort(s.remoteAddress());
            ServerConnection link = s.currentBackend();
            rows.add(Arrays.asList("C", s.pool().key().user(), s.pool().key().database(), state(s.stateName()),
                    addr[0], addr[1], AdminContext.time(s.connectedMillis()),
                    link == null ? null : "S-" + link.id(), s.id()));
        }
        return AdminResult.rows(List.of("type", "user", "database", "state", "addr", "port", "connect_time",
                "link", "id"), rows);
    }

    /** PgBouncer's words: active (holding a backend or ready to), waiting (for a backend). */
    static String state(String sessionState) {
        return switch (sessionState) {
            case "leasing" -> "waiting";
            case "idle" -> "idle";
            case "closed" -> "closing";
            default -> "active";
        };
    }
}
