package dev.pgferry.admin;

import dev.pgferry.protocol.SqlState;
import java.util.List;

/**
 * RESUME [db]: undoes PAUSE, ending one still waiting with an error; waiting clients get fresh backends. Of a
 * database not paused (or with nothing paused) it is an error, as on PgBouncer.
 */
final class Resume implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("RESUME");
    }

    @Override
    public String help() {
        return "RESUME [db]: ends a PAUSE; waiting clients proceed with fresh backends";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = database(this, args);
        if (db != null && admin.pauses.allPaused()) {
            throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED,
                    "all databases are paused: RESUME without a name resumes them");
        }
        // as PgBouncer ("pooler is not paused/suspended", "database %s is not paused"): a mistyped name must not
        // read as a database resumed
        if (db == null ? !admin.pauses.anyPaused() : !admin.pauses.paused(db)) {
            throw new AdminException(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE,
                    db == null ? "no database is paused" : "database \"" + db + "\" is not paused");
        }
        int n = admin.pauses.resume(db);
        return AdminResult.done("RESUME", (db == null ? "all databases" : "database \"" + db + "\"") + " resumed ("
                + n + " pools)");
    }

    /** The optional database argument, unquoted; null when absent. */
    static String database(AdminCommand c, List<String> args) throws AdminException {
        if (args.size() > 1) {
            throw AdminException.syntax(c.words().get(0) + " takes at most one database name");
        }
        if (args.isEmpty()) {
            return null;
        }
        String db = args.get(0);
        return db.length() > 1 && db.startsWith("\"") && db.endsWith("\"") ? db.substring(1, db.length() - 1) : db;
    }
}
