package dev.pgferry.admin;

import java.util.ArrayList;
import java.util.List;

/**
 * SHOW LISTS, PgBouncer's {@code list}/{@code items} rows in its order (its admin.c). {@code databases} counts the
 * rows of SHOW DATABASES (the console's own included, as PgBouncer counts its {@code pgbouncer}), {@code users} those
 * of SHOW USERS, {@code pools} those of SHOW POOLS. {@code used_clients} counts client connections open now, the
 * console's included (PgBouncer's client slab holds every client socket); {@code login_clients} those not yet logged in
 * nor waiting for their pool (authenticating). {@code used_servers} counts backends open or being opened. pgferry has
 * no peers, keeps no cache of freed connection objects and resolves host names through the JVM without a DNS cache of
 * its own: {@code peers}, {@code peer_pools}, {@code free_clients}, {@code free_servers} and the {@code dns_} rows
 * are 0. The counts are read without a lock, so one taken while clients come and go may be off by those.
 */
final class ShowLists implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHOW", "LISTS");
    }

    @Override
    public String help() {
        return "SHOW LISTS: how many databases, users, pools, clients and servers pgferry holds";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        int servers = admin.servers(k -> true);
        int clients = admin.sc.clientConnections(); // pool clients, logging in or logged in; the console's are apart
        int pending = Math.max(0, clients - admin.sc.loggedInClients().size() - admin.sc.waitingLogins().size());
        List<List<String>> rows = new ArrayList<>();
        row(rows, "databases", admin.databases().size());
        row(rows, "users", ShowUsers.users(admin).size());
        row(rows, "peers", 0);
        row(rows, "pools", admin.sc.pools().all().size());
        row(rows, "peer_pools", 0);
        row(rows, "free_clients", 0);
        row(rows, "used_clients", clients + admin.connections.get());
        row(rows, "login_clients", pending);
        row(rows, "free_servers", 0);
        row(rows, "used_servers", servers);
        row(rows, "dns_names", 0);
        row(rows, "dns_zones", 0);
        row(rows, "dns_queries", 0);
        row(rows, "dns_pending", 0);
        return AdminResult.rows(List.of("list", "items"), rows);
    }

    private static void row(List<List<String>> rows, String list, int items) {
        rows.add(List.of(list, Integer.toString(items)));
    }
}
