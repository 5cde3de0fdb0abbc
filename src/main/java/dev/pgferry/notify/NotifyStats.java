package dev.pgferry.notify;

import java.util.concurrent.atomic.LongAdder;

/** Counters of the LISTEN/NOTIFY fan-out, for the metrics. */
public final class NotifyStats {
    /** NotificationResponses handed to clients (one per subscriber). */
    public final LongAdder delivered = new LongAdder();
    /** Notifications a client did not get: it was closed for exceeding {@code pgferry.notify.max-queued}. */
    public final LongAdder dropped = new LongAdder();
    /** Listener connections lost and reopened (subscribers were told notifications may have been missed). */
    public final LongAdder listenerReconnects = new LongAdder();
    /** Clients closed for exceeding {@code pgferry.notify.max-queued}. */
    public final LongAdder slowClientsClosed = new LongAdder();
}
