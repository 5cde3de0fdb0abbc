package dev.pgferry.observability.admin;

import java.util.List;

/**
 * PAUSE [db]: no new backend is handed out for the database (every database without a name); clients asking
 * for one wait, up to pgferry.pool.query-wait-timeout. Transactions already holding a backend finish. Returns at
 * once, unlike PgBouncer's, which waits for them.
 */
final class Pause implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("PAUSE");
    }

    @Override
    public String help() {
        return "PAUSE [db]: new transactions wait for a backend until RESUME; running ones finish";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = Resume.database(this, args);
        int n = admin.pauses.pause(db);
        return AdminResult.done("PAUSE", (db == null ? "all databases" : "database \"" + db + "\"") + " paused ("
                + n + " pools now; pools created later start paused)");
    }
}
