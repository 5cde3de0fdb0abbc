package dev.pgferry.admin;

import dev.pgferry.config.EffectivePoolConfig;
import dev.pgferry.config.PgferryConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * SHOW DATABASES, PgBouncer's columns in its order (its admin.c): one row per database of {@link AdminContext#databases}.
 * {@code host}, {@code port}, {@code database}, {@code force_user}, {@code pool_size}, {@code min_pool_size},
 * {@code reserve_pool_size}, {@code max_connections} and {@code pool_mode} are the pgferry.databases entry's, else the
 * default backend's and pgferry.pool's ({@link EffectivePoolConfig}, what the pools use; a user's own settings win over
 * them, see SHOW USERS); {@code pool_mode} is NULL where the entry does not set it, as PgBouncer shows a mode
 * inherited from the global setting; {@code server_lifetime} is pgferry.pool.max-lifetime in seconds. pgferry has no
 * host list or per-database client limit: {@code load_balance_hosts} is NULL, {@code max_client_connections} 0,
 * PgBouncer's values when they are not set.
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
        PgferryConfig c = admin.sc.config();
        EffectivePoolConfig e = new EffectivePoolConfig(c);
        List<List<String>> rows = new ArrayList<>();
        for (String name : admin.databases()) {
            if (name.equals(AdminConsole.DATABASE)) {
                rows.add(Arrays.asList(name, null, str(c.listenPort()), name, null, "0", "0", "0",
                        str(c.pool().maxLifetime().toSeconds()), "statement", null, "0", "0", "0",
                        str(admin.connections.get()), "0", "0"));
                continue;
            }
            String mode = e.databasePoolMode(name).map(m -> m.name().toLowerCase()).orElse(null);
            int servers = admin.servers(k -> k.database().equals(name));
            rows.add(Arrays.asList(name, e.host(name), str(e.port(name)), e.dbname(name),
                    e.forcedUser(name).orElse(null), str(e.databasePoolSize(name)), str(e.minPoolSize(name)),
                    str(e.databaseReserveSize(name)), str(c.pool().maxLifetime().toSeconds()), mode, null,
                    str(e.maxDbConnections(name)), str(servers), "0", str(admin.clients(k -> k.database().equals(name))),
                    admin.pauses.paused(name) ? "1" : "0", admin.sc.disabled(name) ? "1" : "0"));
        }
        return AdminResult.rows(COLUMNS, rows);
    }

    private static String str(long n) {
        return Long.toString(n);
    }
}
