package dev.pgferry.notify;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;

/**
 * The notifications (and notices) held for one client until it may have them: it is inside a transaction, or its
 * socket is full. Bounded by {@code pgferry.notify.max-queued}: {@link #offer} refuses past it, and the caller closes
 * the client, so memory is never what gives.
 */
final class NotificationQueue {
    private final ArrayDeque<ByteBuf> messages = new ArrayDeque<>();
    private final int max;

    NotificationQueue(int max) {
        this.max = Math.max(1, max);
    }

    /** Queues {@code m}; false (and {@code m} released) if the queue holds its maximum already. */
    boolean offer(ByteBuf m) {
        if (messages.size() >= max) {
            m.release();
            return false;
        }
        messages.addLast(m);
        return true;
    }

    /** The oldest message, the caller's now; null if none. */
    ByteBuf poll() {
        return messages.pollFirst();
    }

    boolean isEmpty() {
        return messages.isEmpty();
    }

    int size() {
        return messages.size();
    }

    int max() {
        return max;
    }

    /** Releases every message held. */
    void clear() {
        ByteBuf m;
        while ((m = messages.pollFirst()) != null) {
            m.release();
        }
    }
}
