package dev.pgferry.admin;

import dev.pgferry.pool.Pool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** SHOW STATS: totals per database since start, summed over its pools (PgBouncer's column names where they exist). */
final class ShowStats implements AdminCommand {
    /** Indexes of {@link #perDatabase}'s counters, in the order of the columns after {@code database}. */
    static final int LEASES = 0, XACTS = 1, QUERIES = 2, RECEIVED = 3, SENT = 4, WAIT_US = 5, TIMEOUTS = 6,
            CONNECT_ERRORS = 7, COUNTERS = 8;

    @Override
    public List<String> words() {
        return List.of("SHOW", "STATS");
    }

    @Override
    public String help() {
        return "SHOW STATS: transactions, queries, bytes and waiting per database since start";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        Map<String, long[]> byDb = perDatabase(admin);
        List<List<String>> rows = new ArrayList<>();
        byDb.forEach((db, t) -> {
            List<String> row = new ArrayList<>();
            row.add(db);
            for (long v : t) {
                row.add(Long.toString(v));
            }
            rows.add(row);
        });
        return AdminResult.rows(List.of("database", "total_server_assignment_count", "total_xact_count",
                "total_query_count", "total_received", "total_sent", "total_wait_time", "total_pool_timeouts",
                "total_connect_errors"), rows);
    }

    /** Each database's counters since start, summed over its pools, by database name as SHOW STATS lists them. */
    static Map<String, long[]> perDatabase(AdminContext admin) {
        Map<String, long[]> byDb = new LinkedHashMap<>();
        for (Pool p : admin.pools()) {
            long[] t = byDb.computeIfAbsent(p.key().database(), k -> new long[COUNTERS]);
            t[LEASES] += p.stats().leases.sum();
            t[XACTS] += p.stats().transactions.sum();
            t[QUERIES] += p.stats().queries.sum();
            t[RECEIVED] += p.stats().bytesFromClients.sum();
            t[SENT] += p.stats().bytesFromServers.sum();
            t[WAIT_US] += p.stats().totalWaitNanos.sum() / 1000;
            t[TIMEOUTS] += p.stats().waitTimeouts.sum();
            t[CONNECT_ERRORS] += p.stats().connectErrors.sum();
        }
        return byDb;
    }
}
