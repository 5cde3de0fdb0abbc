package dev.pgferry.backend;

import dev.pgferry.protocol.FrontendMessages;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/** Sends a CancelRequest with a backend's own key over a fresh connection to that backend's server. */
public final class CancelForwarder implements Consumer<ServerConnection> {
    private static final Logger LOG = Logger.getLogger(CancelForwarder.class);
    private final BackendChannels channels;

    public CancelForwarder(BackendChannels channels) {
        this.channels = channels;
    }

    @Override
    public void accept(ServerConnection backend) {
        BackendTarget t = backend.target();
        int pid = backend.processId();
        byte[] key = backend.secretKey();
        Bootstrap b;
        try {
            b = channels.bootstrap(backend.eventLoop(), t);
        } catch (BackendException e) {
            LOG.debugf("cancel for %s failed: %s", backend, e.getMessage());
            return;
        }
        b.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(BackendChannels.address(t))
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        LOG.debugf("cancel for %s failed: %s", backend, f.cause().toString());
                        return;
                    }
                    ByteBuf out = f.channel().alloc().buffer(16 + key.length);
                    FrontendMessages.cancelRequest(out, pid, key);
                    // the server closes the connection after reading the request
                    f.channel().writeAndFlush(out);
                    LOG.debugf("cancel sent for %s", backend);
                });
    }
}
