package dev.pgferry.admin;

import dev.pgferry.protocol.SqlState;
import java.util.List;

/**
 * DISABLE db, as PgBouncer's: new logins to the database are refused with FATAL 08P01
 * {@code database does not allow connections: db} (a login that began before, still authenticating, gets
 * {@code database "db" is disabled}); clients logged in keep working. ENABLE undoes it. The name needs no
 * configuration entry, as PgBouncer registers it from its {@code *} entry; the console's own is refused.
 */
final class Disable implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("DISABLE");
    }

    @Override
    public String help() {
        return "DISABLE db: new logins to db are refused; logged-in clients keep working";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = required(this, args);
        if (AdminConsole.DATABASE.equals(db)) {
            throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED, "cannot disable admin db: " + db);
        }
        admin.register(db);
        admin.sc.disable(db);
        return AdminResult.done("DISABLE", null);
    }

    /** The database argument PgBouncer requires of DISABLE and ENABLE, in its words when it is missing. */
    static String required(AdminCommand c, List<String> args) throws AdminException {
        String db = Resume.database(c, args);
        if (db == null) {
            throw AdminException.syntax("a database is required");
        }
        return db;
    }
}
