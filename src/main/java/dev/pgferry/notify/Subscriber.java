package dev.pgferry.notify;

import dev.pgferry.pool.Pool;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

/** A client that receives the notifications of the channels it subscribed to. */
interface Subscriber {
    /** The client's event loop: {@link #deliver} runs there. */
    EventLoop loop();

    /** The pool the client uses: the listener connection logs in through it when this client opens it. */
    Pool pool();

    /** A NotificationResponse or NoticeResponse for the client, which owns {@code message}; on {@link #loop}. */
    void deliver(ByteBuf message);
}
