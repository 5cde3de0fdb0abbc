package dev.pgferry.observability.admin;

import dev.pgferry.config.PgferryConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * SHOW DATABASES, PgBouncer's columns in its order (its admin.c): one row per database of {@link AdminContext#databases}.
 * {@code host}, {@code port}, {@code database}, {@code pool_size} and {@code pool_mode} are the pgferry.databases
 * entry's, else the default backend's and pgferry.pool's, as pgferry opens the database's pools with them;
 * {@code pool_mode} is NULL where the entry does not set it, as PgBouncer shows a mode inherited from the global
 * setting. {@code min_pool_size} is pgferry.pool.min-idle, {@code server_lifetime} pgferry.pool.max-lifetime in
 * seconds, {@code reserve_pool_size} pgferry.pool.reserve-size, {@code max_connections} pgferry.pool.max-db-connections
 * (0: no limit). pgferry has no forced user, host list or per-database client limit: {@code force_user} and
 * {@code load_balance_hosts} are NULL, {@code max_client_connections} 0, PgBouncer's values when they are not set.
 * {@code current_connections} counts the database's backends open or being opened, {@code current_client_connections}
 * its logged-in clients and those whose login waits for its pool. The console's own database comes first by name, as
 * PgBouncer lists its {@code pgbouncer}: no host, the listen port, statement mode, no pool, its logged-in console
 * connections as clients.
 */
final class ShowDatabases implements AdminCommand {
    static final List<String> COLUMNS = List.of("name", "host", "port", "database", "force_user", "pool_size",
            "min_pool_size", "reserve_pool_size", "server_lifetime", "pool_mode", "load_balance_hosts",
            "max_connections", "current_connections", "max_client_connections", "current_client_connections",
            "paused", "disabled");

    @Override
    public List<String> words() {
        return List.of("SHOW", "DATABASES");
    }

    @Override
    public String help() {
        return "SHOW DATABASES: each database with its server, pool settings, connection counts, paused and disabled";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        PgferryConfig c = admin.sc.config;
        List<List<String>> rows = new ArrayList<>();
        for (String name : admin.databases()) {
            if (name.equals(AdminConsole.DATABASE)) {
                rows.add(Arrays.asList(name, null, str(c.listenPort()), name, null, "0", "0", "0",
                        str(c.pool().maxLifetime().toSeconds()), "statement", null, "0", "0", "0",
                        str(admin.connections.get()), "0", "0"));
                continue;
            }
            PgferryConfig.Database db = c.databases().get(name);
            String host = db != null && db.host().isPresent() ? db.host().get() : c.backend().host();
            int port = db != null && db.port().isPresent() ? db.port().getAsInt() : c.backend().port();
            String dbname = db != null && db.dbname().isPresent() ? db.dbname().get() : name;
            int size = db != null && db.poolSize().isPresent() ? db.poolSize().getAsInt() : c.pool().size();
            String mode = db != null && db.poolMode().isPresent() ? db.poolMode().get().name().toLowerCase() : null;
            int servers = admin.servers(k -> k.database().equals(name));
            rows.add(Arrays.asList(name, host, str(port), dbname, null, str(size), str(c.pool().minIdle()),
                    str(c.pool().reserveSize()),
                    str(c.pool().maxLifetime().toSeconds()), mode, null, str(c.pool().maxDbConnections()),
                    str(servers), "0", str(admin.clients(k -> k.database().equals(name))), admin.pauses.paused(name) ? "1" : "0",
                    admin.sc.disabledDatabases.contains(name) ? "1" : "0"));
        }
        return AdminResult.rows(COLUMNS, rows);
    }

    private static String str(long n) {
        return Long.toString(n);
    }
}
