package dev.pgferry.notify;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The channels of one client's LISTEN subscribed on the listener before that LISTEN's transaction commits, and the
 * notifications the listener read for them meanwhile. PostgreSQL delivers to a new listener every notification
 * committed after its LISTEN commits (async.c: the LISTEN registers at PreCommit_Notify, and a notification is read
 * against the listen list at read time); the listener is already listening then, so none is missed. Of those held
 * here, the client gets those read after the request that ended its transaction was sent: nothing can commit after
 * the client's COMMIT before that COMMIT was sent. One read earlier was committed before the client's LISTEN could
 * take effect, as PostgreSQL would not deliver it either. A rollback drops them all.
 *
 * <p>Requests are numbered over the session (every Query, Sync, FunctionCall sent); on the client's loop only.
 */
final class PendingListens {
    private record Held(ByteBuf message, long seq) {}

    private final Set<String> channels = new LinkedHashSet<>();
    private final List<Held> held = new ArrayList<>();
    /** The number of the first request that may commit the channels: the one carrying the LISTEN. */
    private long from;
    /** The number of the request whose ReadyForQuery 'I' ended the transaction; 0 until it came. */
    private long cut;

    boolean isEmpty() {
        return channels.isEmpty();
    }

    boolean contains(String channel) {
        return channels.contains(channel);
    }

    Set<String> channels() {
        return channels;
    }

    /** {@code add} subscribed ahead of the request numbered {@code first} that carries their LISTEN. */
    void add(List<String> add, long first) {
        if (channels.isEmpty()) {
            from = first;
            cut = 0;
        }
        channels.addAll(add);
    }

    /** Whether the request carrying the LISTEN was answered by {@code answered}: its transaction may be over. */
    boolean reached(long answered) {
        return !channels.isEmpty() && answered >= from;
    }

    /** A ReadyForQuery 'I' answered request {@code answered}: the first one at or after the LISTEN's ends its transaction. */
    void transactionEnded(long answered) {
        if (!channels.isEmpty() && cut == 0 && answered >= from) {
            cut = answered;
        }
    }

    /** Keeps {@code m}, read when {@code sent} requests had been sent; false (not kept) past {@code max}. */
    boolean hold(ByteBuf m, long sent, int max) {
        if (held.size() >= max) {
            return false;
        }
        held.add(new Held(m, sent));
        return true;
    }

    /**
     * The transaction ended and these channels are listened on now: the notifications held for them read after the
     * request that ended it, in order, are returned (the caller's); the rest is released, and nothing stays pending.
     */
    List<ByteBuf> settle(Set<String> committed) {
        List<ByteBuf> out = new ArrayList<>(held.size());
        for (Held h : held) {
            if (cut != 0 && h.seq >= cut && committed.contains(NotifyInbox.channelOf(h.message))) {
                out.add(h.message);
            } else {
                h.message.release();
            }
        }
        held.clear();
        channels.clear();
        return out;
    }

    /** Releases what is held; nothing stays pending. */
    void clear() {
        held.forEach(h -> h.message.release());
        held.clear();
        channels.clear();
    }
}
