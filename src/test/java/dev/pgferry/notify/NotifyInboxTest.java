package dev.pgferry.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The listen list after a committed transaction's operations, as PostgreSQL's Exec_ListenCommit/UnlistenCommit. */
class NotifyInboxTest {
    private static Set<String> of(String... channels) {
        return new LinkedHashSet<>(List.of(channels));
    }

    @Test
    void operationsApplyInOrder() {
        assertThat(NotifyInbox.after(of(), List.of("+a", "+b", "-a"))).containsExactly("b");
        assertThat(NotifyInbox.after(of("a"), List.of("-a", "+a"))).containsExactly("a");
        assertThat(NotifyInbox.after(of("a", "b"), List.of("*", "+c"))).containsExactly("c");
        assertThat(NotifyInbox.after(of("a"), List.of("+c", "*"))).isEmpty();
    }

    @Test
    void listeningTwiceOrUnlisteningAStrangerIsNothing() {
        assertThat(NotifyInbox.after(of("a"), List.of("+a", "-zz"))).containsExactly("a");
    }

    @Test
    void channelNamesAreQuotedForTheListener() {
        assertThat(ChannelListener.quote("jobs")).isEqualTo("\"jobs\"");
        assertThat(ChannelListener.quote("a\"b")).isEqualTo("\"a\"\"b\"");
        assertThat(ChannelListener.quote("Mixed Case")).isEqualTo("\"Mixed Case\"");
    }
}
