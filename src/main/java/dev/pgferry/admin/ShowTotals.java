package dev.pgferry.admin;

import java.util.ArrayList;
import java.util.List;

/**
 * SHOW TOTALS, as PgBouncer's show_stat_totals (its stats.c): {@code name}/{@code value} rows, the totals of SHOW
 * STATS over every database ({@code total_client_bytes} is SHOW STATS' {@code total_received}, {@code
 * total_server_bytes} its {@code total_sent}, {@code total_wait_time} in microseconds), then the averages. {@code
 * total_client_connect_count} counts the logins to a pool since start. pgferry does not time transactions or queries
 * nor count prepared statements per pool: {@code total_xact_time}, {@code total_query_time} and the {@code ps_} rows
 * are 0. PgBouncer's averages are per second (per transaction or query for the times) over its last stats_period;
 * pgferry keeps no such snapshots, so every {@code avg_} row is 0. SHOW STATS' pgferry-only columns
 * ({@code total_pool_timeouts}, {@code total_connect_errors}) have no row here, as PgBouncer has none.
 */
final class ShowTotals implements AdminCommand {
    /** PgBouncer's counters, in its order. */
    private static final List<String> NAMES = List.of("server_assignment_count", "xact_count", "query_count",
            "client_bytes", "server_bytes", "xact_time", "query_time", "wait_time", "ps_client_parse_count",
            "ps_server_parse_count", "ps_bind_count", "client_connect_count");
    /** Where each counter's total comes from: an index of {@link ShowStats#perDatabase}, or one of these. */
    private static final int NONE = -1, LOGINS = -2;
    private static final int[] SOURCE = {ShowStats.LEASES, ShowStats.XACTS, ShowStats.QUERIES, ShowStats.RECEIVED,
        ShowStats.SENT, NONE, NONE, ShowStats.WAIT_US, NONE, NONE, NONE, LOGINS};

    @Override
    public List<String> words() {
        return List.of("SHOW", "TOTALS");
    }

    @Override
    public String help() {
        return "SHOW TOTALS: SHOW STATS summed over every database, one counter a row";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        long[] sum = new long[ShowStats.COUNTERS];
        for (long[] db : ShowStats.perDatabase(admin).values()) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += db[i];
            }
        }
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < NAMES.size(); i++) {
            long v = switch (SOURCE[i]) {
                case NONE -> 0;
                case LOGINS -> admin.sc.logins();
                default -> sum[SOURCE[i]];
            };
            rows.add(List.of("total_" + NAMES.get(i), Long.toString(v)));
        }
        for (String name : NAMES) {
            rows.add(List.of("avg_" + name, "0"));
        }
        return AdminResult.rows(List.of("name", "value"), rows);
    }
}
