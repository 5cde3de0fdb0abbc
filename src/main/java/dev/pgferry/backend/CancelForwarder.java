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
    private final ChannelFactory<? extends Channel> channelFactory;

    public CancelForwarder(ChannelFactory<? extends Channel> channelFactory) {
        this.channelFactory = channelFactory;
    }

    @Override
    public void accept(ServerConnection backend) {
        BackendTarget t = backend.target();
        int pid = backend.processId();
        byte[] key = backend.secretKey();
        new Bootstrap().group(backend.eventLoop()).channelFactory(channelFactory)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(t.host(), t.port())
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
