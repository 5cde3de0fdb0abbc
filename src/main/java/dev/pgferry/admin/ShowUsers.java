package dev.pgferry.admin;

import dev.pgferry.auth.FileCredentialStore;
import dev.pgferry.config.EffectivePoolConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * SHOW USERS, PgBouncer's columns in its order (its admin.c): one row per user pgferry knows, by name: each entry of
 * the users file and each user with a pool (an auth_query or passthrough user has none in the file), as PgBouncer's
 * user list holds its auth_file and [users] entries, and each {@code pgferry.users} entry. PgBouncer's {@code pool_size},
 * {@code reserve_pool_size} and {@code pool_mode} are a user's own settings ({@code pgferry.users."u".*}, PgBouncer's
 * [users] section), empty and NULL when it has none and inherits them (from SHOW DATABASES).
 * {@code max_user_connections} is the user's own, else pgferry.pool.max-user-connections (0: no limit), as
 * PgBouncer shows the global value for a user without its own; {@code current_connections} counts the user's backends
 * open or being opened on every database (with a database's forced user, they are that user's, not its clients'). pgferry has no per-user client limit: {@code max_user_client_connections}
 * is 0, PgBouncer's value when unset; {@code current_client_connections} counts the clients logged in as the user and
 * those whose login waits for its pool, whatever user their pool's backends log in as (admin console connections are
 * not counted), as PgBouncer counts a client for its login user.
 */
final class ShowUsers implements AdminCommand {
    static final List<String> COLUMNS = List.of("name", "pool_size", "reserve_pool_size", "pool_mode",
            "max_user_connections", "current_connections", "max_user_client_connections",
            "current_client_connections");

    @Override
    public List<String> words() {
        return List.of("SHOW", "USERS");
    }

    @Override
    public String help() {
        return "SHOW USERS: each user with its connection limit and its server and client connection counts";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        EffectivePoolConfig e = new EffectivePoolConfig(admin.sc.config());
        List<List<String>> rows = new ArrayList<>();
        for (String user : users(admin)) {
            int servers = admin.servers(k -> k.user().equals(user));
            int clients = admin.clientsOfUser(user);
            OptionalInt size = e.userPoolSize(user);
            OptionalInt reserve = e.userReserveSize(user);
            rows.add(Arrays.asList(user, size.isPresent() ? Integer.toString(size.getAsInt()) : "",
                    reserve.isPresent() ? Integer.toString(reserve.getAsInt()) : "",
                    e.userPoolMode(user).map(m -> m.name().toLowerCase()).orElse(null),
                    Integer.toString(e.maxUserConnections(user)), Integer.toString(servers), "0",
                    Integer.toString(clients)));
        }
        return AdminResult.rows(COLUMNS, rows);
    }

    /** The users file's entries and the users with a pool, by name. */
    static SortedSet<String> users(AdminContext admin) {
        SortedSet<String> names = new TreeSet<>();
        if (admin.sc.credentials() instanceof FileCredentialStore file) {
            names.addAll(file.users());
        }
        admin.sc.pools().all().forEach(p -> names.add(p.key().user()));
        admin.sc.loggedInClients().forEach(s -> names.add(s.user())); // a forced user's pool does not name its clients' users
        names.addAll(admin.sc.config().users().keySet());
        return names;
    }
}
