package dev.pgferry.notify;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Channel → the clients subscribed to it, for one database's listener connection. Tells when a channel gets its first
 * subscriber (then the listener must LISTEN) and loses its last (then it may UNLISTEN). Touched on the listener's
 * event loop only; no locks.
 */
final class Subscriptions<S> {
    private final Map<String, Set<S>> byChannel = new HashMap<>();

    /** Subscribes {@code s} to {@code channel}; true if the channel had no subscriber before. */
    boolean add(String channel, S s) {
        Set<S> subs = byChannel.get(channel);
        if (subs == null) {
            subs = new LinkedHashSet<>(4);
            byChannel.put(channel, subs);
            subs.add(s);
            return true;
        }
        subs.add(s);
        return false;
    }

    /** Unsubscribes {@code s} from {@code channel}; true if that was the channel's last subscriber. */
    boolean remove(String channel, S s) {
        Set<S> subs = byChannel.get(channel);
        if (subs == null || !subs.remove(s)) {
            return false;
        }
        if (subs.isEmpty()) {
            byChannel.remove(channel);
            return true;
        }
        return false;
    }

    /** Who is subscribed to {@code channel}, in subscription order; empty if nobody. */
    Set<S> subscribers(String channel) {
        Set<S> subs = byChannel.get(channel);
        return subs == null ? Set.of() : subs;
    }

    /** The channels with at least one subscriber. */
    Set<String> channels() {
        return byChannel.keySet();
    }

    /** Every subscriber, each once. */
    Set<S> everyone() {
        Set<S> all = new LinkedHashSet<>();
        for (Set<S> subs : byChannel.values()) {
            all.addAll(subs);
        }
        return all;
    }

    boolean isEmpty() {
        return byChannel.isEmpty();
    }
}
