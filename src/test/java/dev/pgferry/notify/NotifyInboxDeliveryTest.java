package dev.pgferry.notify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** When a client gets its notifications: between transactions only, in order, and never more than the bound waits. */
class NotifyInboxDeliveryTest {
    private final EmbeddedChannel ch = new EmbeddedChannel();
    private final NotifyStats stats = new NotifyStats();
    private boolean between = true;
    private String fatal;
    private final NotifyInbox inbox = new NotifyInbox(null, stats, ch, 3, new NotifyInbox.Client() {
        @Override
        public boolean betweenTransactions() {
            return between;
        }

        @Override
        public void closeWithFatal(String sqlState, String message) {
            fatal = sqlState + " " + message;
        }

        @Override
        public long requestsSent() {
            return 0;
        }
    });

    @AfterEach
    void releaseWhatIsLeft() {
        ch.finishAndReleaseAll();
    }

    /** A NotificationResponse as PostgreSQL sends it: pid, channel, payload. */
    private static ByteBuf notification(int pid, String channel, String payload) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte('A').writeInt(0).writeInt(pid);
        b.writeCharSequence(channel, StandardCharsets.UTF_8);
        b.writeByte(0);
        b.writeCharSequence(payload, StandardCharsets.UTF_8);
        b.writeByte(0);
        b.setInt(1, b.writerIndex() - 1);
        return b;
    }

    private List<String> written() {
        List<String> out = new ArrayList<>();
        ByteBuf m;
        while ((m = ch.readOutbound()) != null) {
            int nul = m.indexOf(9, m.writerIndex(), (byte) 0);
            out.add((char) m.getByte(0) + ":" + m.toString(nul + 1, m.writerIndex() - nul - 2, StandardCharsets.UTF_8));
            m.release();
        }
        return out;
    }

    @Test
    void betweenTransactionsANotificationIsWrittenAtOnce() {
        inbox.deliver(notification(7, "jobs", "one"));
        assertThat(written()).containsExactly("A:one");
        assertThat(stats.delivered.sum()).isEqualTo(1);
    }

    @Test
    void insideATransactionNotificationsWaitForItsEndInOrder() {
        between = false;
        inbox.deliver(notification(7, "jobs", "one"));
        inbox.deliver(notification(7, "jobs", "two"));
        inbox.drain();
        assertThat(written()).as("still inside").isEmpty();
        between = true;
        inbox.deliver(notification(7, "jobs", "three")); // after those that waited, never before
        inbox.drain();
        assertThat(written()).containsExactly("A:one", "A:two", "A:three");
    }

    @Test
    void pastTheBoundTheClientIsClosedWithAFatalNamingIt() {
        between = false;
        for (int i = 0; i < 4; i++) {
            inbox.deliver(notification(7, "jobs", "n" + i));
        }
        assertThat(fatal).startsWith("54000").contains("pgferry.notify.max-queued = 3");
        assertThat(stats.slowClientsClosed.sum()).isEqualTo(1);
        assertThat(stats.dropped.sum()).as("the refused one and the three that waited").isEqualTo(4);
        between = true;
        inbox.drain();
        inbox.deliver(notification(7, "jobs", "after close"));
        assertThat(written()).isEmpty();
    }

    @Test
    void aNoticeGoesTheSameWayButIsNoNotification() {
        ByteBuf notice = Unpooled.buffer();
        ServerMessages.noticeResponse(notice, "WARNING", "01000", ChannelListener.MISSED);
        inbox.deliver(notice);
        ByteBuf m = ch.readOutbound();
        assertThat((char) m.getByte(0)).isEqualTo('N');
        m.release();
        assertThat(stats.delivered.sum()).isZero();
    }

    @Test
    void theChannelOfANotificationIsRead() {
        ByteBuf n = notification(42, "Some Channel", "x");
        assertThat(NotifyInbox.channelOf(n)).isEqualTo("Some Channel");
        n.release();
    }
}
