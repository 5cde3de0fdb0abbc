package dev.pgferry.notify;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

/** A client that receives the notifications of the channels it subscribed to. */
interface Subscriber {
    /** The client's event loop: {@link #deliver} runs there. */
    EventLoop loop();

    /** A NotificationResponse or NoticeResponse for the client, which owns {@code message}; on {@link #loop}. */
    void deliver(ByteBuf message);
}
