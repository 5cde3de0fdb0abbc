package dev.pgferry.admin;

import dev.pgferry.protocol.SqlState;
import java.util.List;

/**
 * ENABLE db: undoes DISABLE. As PgBouncer's, which looks the name up without registering it, a database the console
 * does not know (SHOW DATABASES does not list it) is an error, {@code no such database: db}.
 */
final class Enable implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("ENABLE");
    }

    @Override
    public String help() {
        return "ENABLE db: new logins to db are accepted again after DISABLE";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = Disable.required(this, args);
        if (!admin.databases().contains(db)) {
            throw new AdminException(SqlState.INVALID_CATALOG_NAME, "no such database: " + db);
        }
        if (AdminConsole.DATABASE.equals(db)) {
            throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED, "cannot enable admin db: " + db);
        }
        admin.sc.enable(db);
        return AdminResult.done("ENABLE", null);
    }
}
