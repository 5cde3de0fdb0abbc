package dev.pgferry.admin;

import dev.pgferry.pool.Pool;
import java.util.List;

/**
 * The columns SHOW POOLS and SHOW SERVERS add for databases with a {@code hosts} list (target role, hosts, a
 * backend's role). Shown only when some database has one: otherwise the output is exactly PgBouncer's, which
 * monitoring tools (pgbouncer_exporter, scripts reading by position) parse.
 */
final class HostLists {
    private HostLists() {}

    static boolean any(Iterable<Pool> pools) {
        for (Pool p : pools) {
            if (p.roster() != null) {
                return true;
            }
        }
        return false;
    }

    /** The rows, with their last {@code extra} columns left out unless {@code shown}. */
    static AdminResult result(List<String> columns, List<List<String>> rows, boolean shown, int extra) {
        if (shown) {
            return AdminResult.rows(columns, rows);
        }
        int n = columns.size() - extra;
        rows.replaceAll(r -> r.subList(0, n));
        return AdminResult.rows(columns.subList(0, n), rows);
    }
}
