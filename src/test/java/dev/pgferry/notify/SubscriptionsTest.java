package dev.pgferry.notify;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SubscriptionsTest {
    private final Subscriptions<String> subs = new Subscriptions<>();

    @Test
    void theFirstSubscriberOfAChannelIsToldApart() {
        assertThat(subs.add("jobs", "a")).isTrue();
        assertThat(subs.add("jobs", "b")).isFalse();
        assertThat(subs.add("jobs", "a")).isFalse();
        assertThat(subs.add("cache", "a")).isTrue();
        assertThat(subs.subscribers("jobs")).containsExactly("a", "b");
        assertThat(subs.channels()).containsExactlyInAnyOrder("jobs", "cache");
    }

    @Test
    void theLastSubscriberLeavingEmptiesTheChannel() {
        subs.add("jobs", "a");
        subs.add("jobs", "b");
        assertThat(subs.remove("jobs", "a")).isFalse();
        assertThat(subs.remove("jobs", "a")).as("not subscribed any more").isFalse();
        assertThat(subs.remove("jobs", "b")).isTrue();
        assertThat(subs.subscribers("jobs")).isEmpty();
        assertThat(subs.isEmpty()).isTrue();
    }

    @Test
    void removingFromAChannelNobodyListensOnIsNothing() {
        assertThat(subs.remove("none", "a")).isFalse();
        subs.add("jobs", "a");
        assertThat(subs.remove("jobs", "b")).isFalse();
        assertThat(subs.subscribers("jobs")).containsExactly("a");
    }

    @Test
    void everyoneListsEachSubscriberOnce() {
        subs.add("x", "a");
        subs.add("y", "a");
        subs.add("y", "b");
        assertThat(subs.everyone()).containsExactly("a", "b");
    }
}
