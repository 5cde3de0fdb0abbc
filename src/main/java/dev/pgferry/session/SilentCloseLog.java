package dev.pgferry.session;

import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The one log line for a connection closed without a reply, where PostgreSQL's {@code ereport(COMMERROR, …)} writes
 * one to its log at LOG level and tells the client nothing. Anyone can open connections and send a bad length, so the
 * lines are rate-limited: at most {@link #LINES_PER_WINDOW} a second, and the next line after a busy second says how
 * many were left out.
 */
final class SilentCloseLog {
    static final int LINES_PER_WINDOW = 10;
    private static final long WINDOW_NANOS = 1_000_000_000L;

    private final Logger log;
    private final LongSupplier nanoClock;
    private long windowStart;
    private int linesInWindow;
    private long suppressed;

    SilentCloseLog(Logger log, LongSupplier nanoClock) {
        this.log = log;
        this.nanoClock = nanoClock;
        this.windowStart = nanoClock.getAsLong();
    }

    /** Logs that connection {@code id} from {@code peer} is closed without a reply because of {@code reason}. */
    void closing(String id, String peer, String reason) {
        String line = line(id, peer, reason);
        if (line != null) {
            log.info(line);
        }
    }

    /** The line to log, or null when this second's lines are used up (the connection is counted instead). */
    synchronized String line(String id, String peer, String reason) {
        long now = nanoClock.getAsLong();
        String left = "";
        if (now - windowStart >= WINDOW_NANOS) {
            if (suppressed > 0) {
                left = " (" + suppressed + " more connections closed without a reply were not logged)";
            }
            windowStart = now;
            linesInWindow = 0;
            suppressed = 0;
        }
        if (linesInWindow >= LINES_PER_WINDOW) {
            suppressed++;
            return null;
        }
        linesInWindow++;
        return id + " from " + peer + " closed without a reply: " + reason + left;
    }
}
