package dev.pgferry.admin;

import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.ClientControl;
import java.util.List;
import java.util.Locale;

/**
 * KILL_CLIENT id, as PgBouncer's (1.23+): closes the client connection SHOW CLIENTS lists with that id ({@code C-7},
 * or {@code 7} as PgBouncer's numeric ids are given), a login waiting for its pool too. The client gets PgBouncer's
 * FATAL 08P01 {@code admin forced disconnect} and is closed; its backend is cleaned up as when a client vanishes: a
 * transaction it had open is rolled back and the backend goes back to the pool (discarded if a query was still running
 * on it), where PgBouncer closes a backend left inside a transaction. Other clients are not disturbed. Errors in
 * PgBouncer's words: {@code invalid client pointer supplied} (42601) for an id that is not one, {@code client not
 * found} (42704) for one no client has.
 */
final class KillClient implements AdminCommand {
    /** PgBouncer's reason (its admin_cmd_kill_client), sent to the client it closes. */
    static final String REASON = "admin forced disconnect";

    @Override
    public List<String> words() {
        return List.of("KILL_CLIENT");
    }

    @Override
    public String help() {
        return "KILL_CLIENT id: closes the client connection SHOW CLIENTS lists with this id; its transaction rolls back";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        if (args.size() > 1) {
            throw AdminException.syntax("KILL_CLIENT takes one client id");
        }
        String id = id(args.isEmpty() ? "" : args.get(0));
        for (ClientControl s : admin.sc.loggedInClients()) {
            if (s.id().equals(id)) {
                s.disconnect(SqlState.PROTOCOL_VIOLATION, REASON);
                return AdminResult.done("KILL_CLIENT", null);
            }
        }
        for (ClientControl l : admin.sc.waitingLogins()) {
            if (l.id().equals(id)) {
                l.kill(SqlState.PROTOCOL_VIOLATION, REASON);
                return AdminResult.done("KILL_CLIENT", null);
            }
        }
        throw new AdminException(SqlState.UNDEFINED_OBJECT, "client not found");
    }

    /** SHOW CLIENTS' form of {@code arg}: {@code C-7} for {@code C-7}, {@code c-7} or {@code 7}. */
    private static String id(String arg) throws AdminException {
        String digits = arg.toUpperCase(Locale.ROOT).startsWith("C-") ? arg.substring(2) : arg;
        if (digits.isEmpty() || !digits.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            throw AdminException.syntax("invalid client pointer supplied");
        }
        return "C-" + digits;
    }
}
