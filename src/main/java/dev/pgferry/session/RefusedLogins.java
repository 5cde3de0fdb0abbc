package dev.pgferry.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * One INFO line per refused login, as PostgreSQL logs {@code FATAL: password authentication failed for user "x"}
 * with its DETAIL: who (user, database), from where (client address), and why (the SQLSTATE and message the client
 * got, plus what only the log may say, e.g. that the user's secret cannot serve the method). Never a secret: the
 * message is the client's own, the detail names kinds of secrets, not their values.
 *
 * <p>Rate-limited so that a password-guessing flood cannot fill the disk: at most {@link #LINES_PER_WINDOW} lines per
 * client address per {@link #WINDOW_NANOS}, and {@link #GLOBAL_LINES_PER_WINDOW} in all (many addresses at once);
 * what was left out is counted and reported with the next line logged after the window. The metrics count every
 * refusal regardless.
 */
public final class RefusedLogins {
    private static final Logger LOG = Logger.getLogger(RefusedLogins.class);
    static final int LINES_PER_WINDOW = 10;
    static final int GLOBAL_LINES_PER_WINDOW = 100;
    static final long WINDOW_NANOS = 60_000_000_000L;
    /** Addresses remembered at most; beyond it only the global limit applies to new addresses. */
    private static final int MAX_ADDRESSES = 10_000;
    /** PostgreSQL's NAMEDATALEN is 64: a longer user or database name is logged cut. */
    private static final int MAX_NAME = 64;

    private final Map<String, Window> byAddress = new ConcurrentHashMap<>();
    private final Window all = new Window(GLOBAL_LINES_PER_WINDOW);
    private final Sink sink;

    /** Where the lines go: the log, or a test's list. */
    interface Sink {
        void line(String text);
    }

    public RefusedLogins() {
        this(LOG::info);
    }

    RefusedLogins(Sink sink) {
        this.sink = sink;
    }

    /** Logs (or counts) the refusal of the login on {@code ch}; {@code client} is how SHOW CLIENTS shows its address. */
    void refused(io.netty.channel.Channel ch, String id, String user, String database, String client, String sqlState,
            String message, String detail) {
        String address = ch instanceof io.netty.channel.unix.DomainSocketChannel ? "unix"
                : ch.remoteAddress() instanceof java.net.InetSocketAddress a && a.getAddress() != null
                        ? a.getAddress().getHostAddress() : String.valueOf(ch.remoteAddress());
        refused(System.nanoTime(), id, user, database, address, client, sqlState, message, detail);
    }

    /**
     * Logs (or counts) one refusal. {@code address} is the rate-limit key (the client's IP, "unix" for the socket),
     * {@code client} what the line shows (IP and port); {@code detail} may be null.
     */
    void refused(long now, String id, String user, String database, String address, String client, String sqlState,
            String message, String detail) {
        Window own = window(address, now);
        String ownNote = own == null ? "" : own.admit(now);
        if (ownNote == null) {
            return;
        }
        String allNote = all.admit(now);
        if (allNote == null) {
            if (own != null) {
                own.giveBack();
            }
            return;
        }
        StringBuilder line = new StringBuilder(160).append("login refused: user=").append(printable(user))
                .append(" database=").append(printable(database)).append(" client=").append(client).append(" (")
                .append(id).append("): ").append(sqlState).append(' ').append(printable(message));
        if (detail != null) {
            line.append(": ").append(printable(detail));
        }
        sink.line(line.append(ownNote.replace("%s", address)).append(allNote.replace("%s", "all addresses"))
                .toString());
    }

    private Window window(String address, long now) {
        Window w = byAddress.get(address);
        if (w != null) {
            return w;
        }
        if (byAddress.size() >= MAX_ADDRESSES) {
            byAddress.values().removeIf(old -> old.expired(now));
            if (byAddress.size() >= MAX_ADDRESSES) {
                return null;
            }
        }
        return byAddress.computeIfAbsent(address, a -> new Window(LINES_PER_WINDOW));
    }

    /**
     * A user or database name as the client sent it, made safe for a log line: control characters (a forged second
     * line) escaped, and cut at PostgreSQL's name length.
     */
    static String printable(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_NAME * 4));
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (b.length() >= MAX_NAME * 4) {
                return b.append("...").toString();
            }
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Lines logged in the current window, and those left out; its own lock (refusals are no hot path). */
    private static final class Window {
        private final int limit;
        private long start;
        private boolean started;
        private int logged;
        private int suppressed;

        Window(int limit) {
            this.limit = limit;
        }

        /**
         * null when this refusal is not to be logged; otherwise a note for the line: the count left out in the
         * window before, or that the limit is reached now ({@code %s} stands for the address).
         */
        synchronized String admit(long now) {
            String note = "";
            if (!started || now - start > WINDOW_NANOS) {
                if (suppressed > 0) {
                    note = " (" + suppressed + " more refused logins from %s were not logged in the previous minute)";
                }
                started = true;
                start = now;
                logged = 0;
                suppressed = 0;
            }
            if (logged >= limit) {
                suppressed++;
                return null;
            }
            logged++;
            return logged == limit ? note + " (" + limit + " refused logins from %s this minute: further ones are"
                    + " counted, not logged, until the minute is over)" : note;
        }

        /** The line admitted here was held back by another window after all. */
        synchronized void giveBack() {
            logged--;
            suppressed++;
        }

        synchronized boolean expired(long now) {
            return now - start > WINDOW_NANOS;
        }
    }
}
