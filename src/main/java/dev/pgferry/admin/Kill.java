package dev.pgferry.admin;

import dev.pgferry.pool.Pool;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.ClientControl;
import java.util.ArrayList;
import java.util.List;

/**
 * KILL [db], as PgBouncer's kill_pool: every client of the database (of every database with a pool, without a name)
 * gets FATAL 08P01 {@code database removed} and is closed, a login waiting for its pool too, and every backend
 * of it is closed at once, those inside a transaction included (their transactions roll back on the server). The
 * database stays paused: new logins and transactions wait until RESUME. Refused while all databases are paused, as
 * PgBouncer refuses it in its pause mode. Unlike PgBouncer, the pools stay (their SHOW STATS counters go on).
 */
final class Kill implements AdminCommand {
    /** PgBouncer's reason, sent to each client it closes. */
    static final String REASON = "database removed";

    @Override
    public List<String> words() {
        return List.of("KILL");
    }

    @Override
    public String help() {
        return "KILL [db]: drops every client and server connection of db now; db stays paused until RESUME";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        String db = Resume.database(this, args);
        if (AdminConsole.DATABASE.equals(db)) {
            throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED, "cannot kill admin db: " + db);
        }
        if (admin.pauses.allPaused()) {
            throw new AdminException(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, "already suspended/paused");
        }
        List<String> databases = new ArrayList<>();
        if (db == null) {
            admin.pools().forEach(p -> {
                if (!databases.contains(p.key().database())) {
                    databases.add(p.key().database());
                }
            });
        } else {
            admin.register(db);
            databases.add(db);
        }
        for (String d : databases) {
            admin.pauses.pause(d); // pools created from now on start paused; the drain is not waited for
            for (Pool p : admin.poolsOf(d)) {
                admin.markForClose(p);
                p.control().kill();
            }
        }
        for (ClientControl s : admin.sc.loggedInClients()) {
            if (databases.contains(s.pool().key().database())) {
                s.kill(SqlState.PROTOCOL_VIOLATION, REASON);
            }
        }
        for (ClientControl l : admin.sc.waitingLogins()) {
            if (l.pool() != null && databases.contains(l.pool().key().database())) {
                l.kill(SqlState.PROTOCOL_VIOLATION, REASON);
            }
        }
        return AdminResult.done("KILL", null);
    }
}
