package dev.pgferry.backend;

import dev.pgferry.protocol.FrontendMessages;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * Sends a CancelRequest with a backend's own key over a fresh connection to that backend's server. Called on the
 * backend's event loop; until the server has closed that connection (it does so once it has signalled the
 * backend, see {@code processCancelRequest}) the backend counts the cancel as in flight, and the pool holds it
 * back from the next client, whose query the signal could otherwise hit (PgBouncer fixed the same race in
 * pgbouncer/pgbouncer#717). {@code done} runs on the backend's loop when the cancel is over, sent or failed. A cancel
 * the server has not closed within {@link #CANCEL_TIMEOUT_MILLIS} is given up, and its backend is not used again: the
 * server may still deliver the signal, to whatever query runs there by then.
 */
public final class CancelForwarder implements BiConsumer<ServerConnection, Runnable> {
    private static final Logger LOG = Logger.getLogger(CancelForwarder.class);
    /** How long a cancel may take, connecting included, before pgferry gives up on it and discards the backend. */
    private static final int CANCEL_TIMEOUT_MILLIS = 5000;
    private final BackendChannels channels;

    public CancelForwarder(BackendChannels channels) {
        this.channels = channels;
    }

    @Override
    public void accept(ServerConnection backend, Runnable done) {
        BackendTarget t = backend.target();
        int pid = backend.processId();
        byte[] key = backend.secretKey();
        Bootstrap b;
        try {
            b = channels.bootstrap(backend.eventLoop(), t);
        } catch (BackendException e) {
            LOG.debugf("cancel for %s failed: %s", backend, e.getMessage());
            done.run();
            return;
        }
        backend.cancelStarted();
        boolean[] over = new boolean[1]; // touched on the backend's loop only
        ChannelFutureListener finish = f -> {
            if (!over[0]) {
                over[0] = true;
                backend.cancelFinished();
                done.run();
            }
        };
        ChannelFuture connect = b.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CANCEL_TIMEOUT_MILLIS)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(BackendChannels.address(t));
        Channel cancel = connect.channel();
        ScheduledFuture<?> giveUp = cancel.eventLoop().schedule(() -> {
            LOG.debugf("cancel for %s: the server did not close the cancel connection, giving up; the backend goes",
                    backend);
            backend.markBroken(); // closed where it is given back: a late signal must not stop another query
            cancel.close();
        }, CANCEL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        cancel.closeFuture().addListener(f -> {
            giveUp.cancel(false);
            finish.operationComplete(connect);
        });
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                LOG.debugf("cancel for %s failed: %s", backend, f.cause().toString());
                f.channel().close();
                finish.operationComplete(f);
                return;
            }
            ByteBuf out = f.channel().alloc().buffer(16 + key.length);
            FrontendMessages.cancelRequest(out, pid, key);
            // the server closes the connection once it has read the request and signalled the backend
            f.channel().writeAndFlush(out);
            LOG.debugf("cancel sent for %s", backend);
        });
    }
}
