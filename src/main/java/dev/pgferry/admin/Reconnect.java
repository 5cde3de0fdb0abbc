package dev.pgferry.admin;

import dev.pgferry.pool.Pool;
import dev.pgferry.protocol.SqlState;
import java.util.List;

/**
 * RECONNECT [db], as PgBouncer's (1.15+): each server connection of the database (of every database without a name)
 * is closed as soon as it is free, never under a client: idle ones now, each held by a client once it is released
 * (at the end of its transaction, in session mode when its client leaves). New ones are opened as needed, so the
 * next transaction runs on a new server process. For a server address changed by DNS or a failover.
 */
final class Reconnect implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("RECONNECT");
    }

    @Override
    public String help() {
        return "RECONNECT [db]: closes each server connection of db once released; clients are not disturbed";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = Resume.database(this, args);
        if (AdminConsole.DATABASE.equals(db)) {
            throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED, "cannot reconnect admin db: " + db);
        }
        if (db != null) {
            admin.register(db);
        }
        for (Pool p : admin.poolsOf(db)) {
            admin.markForClose(p);
            p.control().reconnect();
        }
        return AdminResult.done("RECONNECT", null);
    }
}
