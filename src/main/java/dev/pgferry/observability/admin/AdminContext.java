package dev.pgferry.observability.admin;

import dev.pgferry.pool.Pool;
import dev.pgferry.session.SessionContext;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;

/** What commands work on: the proxy's shared state, the console's own pause state and its command list. */
final class AdminContext {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    final SessionContext sc;
    final PauseState pauses;
    final List<AdminCommand> commands;

    AdminContext(SessionContext sc, PauseState pauses, List<AdminCommand> commands) {
        this.sc = sc;
        this.pauses = pauses;
        this.commands = commands;
    }

    /** Pools ordered by database, then user, as SHOW output reads best. */
    List<Pool> pools() {
        return sc.pools.all().stream()
                .sorted(Comparator.comparing((Pool p) -> p.key().database()).thenComparing(p -> p.key().user()))
                .toList();
    }

    static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    /** Wall-clock milliseconds of a {@link System#nanoTime()} stamp. */
    static long epochMillis(long nanoStamp) {
        return System.currentTimeMillis() - (System.nanoTime() - nanoStamp) / 1_000_000;
    }

    /**
     * {@code host} and {@code port} of a socket address printed as {@code /127.0.0.1:5432}, or of a Unix-socket
     * client's {@code unix:6432} (see {@code ClientSession.remoteAddress}).
     */
    static String[] hostPort(Object address) {
        String s = String.valueOf(address);
        int slash = s.indexOf('/');
        s = slash >= 0 ? s.substring(slash + 1) : s;
        int colon = s.lastIndexOf(':');
        return colon < 0 ? new String[] {s, null} : new String[] {s.substring(0, colon), s.substring(colon + 1)};
    }
}
