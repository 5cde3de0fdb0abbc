package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

/** One line per connection closed without a reply, at most ten a second, and the count of those left out. */
class SilentCloseLogTest {
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final SilentCloseLog log = new SilentCloseLog(Logger.getLogger(SilentCloseLogTest.class), nanos::get);

    @Test
    void aLineNamesTheConnectionItsPeerAndTheReason() {
        assertThat(log.line("C-7", "/127.0.0.1:5555", "invalid length of startup packet"))
                .isEqualTo("C-7 from /127.0.0.1:5555 closed without a reply: invalid length of startup packet");
    }

    @Test
    void aFloodIsCutToTenLinesASecondAndTheNextLineCountsTheRest() {
        for (int i = 0; i < SilentCloseLog.LINES_PER_WINDOW; i++) {
            assertThat(log.line("C-" + i, "peer", "invalid length of startup packet")).isNotNull();
        }
        for (int i = 0; i < 990; i++) {
            assertThat(log.line("C-x", "peer", "invalid length of startup packet")).isNull();
        }
        nanos.addAndGet(999_000_000L);
        assertThat(log.line("C-y", "peer", "invalid length of startup packet")).as("still the same second").isNull();
        nanos.addAndGet(1_000_000L);
        assertThat(log.line("C-z", "peer", "incomplete startup packet")).isEqualTo("C-z from peer closed without a"
                + " reply: incomplete startup packet (991 more connections closed without a reply were not logged)");
        assertThat(log.line("C-w", "peer", "incomplete startup packet")).doesNotContain("not logged");
    }
}
