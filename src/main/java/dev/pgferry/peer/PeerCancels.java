package dev.pgferry.peer;

import dev.pgferry.protocol.FrontendMessages;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.jboss.logging.Logger;

/**
 * Routes the CancelRequests that reach this replica ({@link CancelRoute}): a key issued here is looked up here, one of
 * another peer is sent on to it over a plain connection, as a CancelRequest with the hop mark set, and the client's
 * connection is closed once the peer has closed that one (as the peer does once its server took the cancel), so that a
 * client waiting for the close sends its next query only after the cancel, as with a single replica.
 */
public final class PeerCancels {
    private static final Logger LOG = Logger.getLogger(PeerCancels.class);
    /** How long a forwarded cancel may take, connecting included, before it is given up. */
    private static final int TIMEOUT_MILLIS = 5000;

    /** Without peering: every key is looked up here, as it is. */
    public static final PeerCancels NONE = new PeerCancels(0, new PeerDirectory(), null);

    private final int self;
    private final PeerDirectory peers;
    private final ChannelFactory<? extends Channel> tcp;
    /** CancelRequests sent on to the peer that issued their key. */
    public final LongAdder forwarded = new LongAdder();
    /** CancelRequests dropped: for a peer not known, or forwarded once already and not at home here. */
    public final LongAdder dropped = new LongAdder();

    public PeerCancels(int self, PeerDirectory peers, ChannelFactory<? extends Channel> tcp) {
        this.self = self;
        this.peers = peers;
        this.tcp = tcp;
    }

    /**
     * The key to look up in this replica's own registry (its hop mark cleared), or null when the request is dealt with
     * here: forwarded or dropped, and {@code done} runs once that is over. Called on the requester's event loop.
     */
    public byte[] route(EventLoop loop, int processId, byte[] secret, Runnable done) {
        if (self == 0) {
            return secret; // no peering: the key is all random, no bit of it is a mark
        }
        CancelRoute route = CancelRoute.of(self, secret, peers::knows);
        switch (route) {
            case LOCAL:
                return PeerKey.asIssued(secret);
            case FORWARD:
                forward(loop, PeerKey.peerId(secret), processId, PeerKey.markForwarded(secret), done);
                return null;
            case DROP_LOOPED:
                LOG.infof("cancel request for process %d of peer %d dropped: it was forwarded here already, and this is"
                        + " peer %d", processId, PeerKey.peerId(secret), self);
                break;
            case DROP_UNKNOWN_PEER:
            default:
                LOG.infof("cancel request for process %d dropped: its key is of peer %d, which this peer (%d) does not"
                        + " know", processId, PeerKey.peerId(secret), self);
                break;
        }
        dropped.increment();
        done.run();
        return null;
    }

    private void forward(EventLoop loop, int peer, int processId, byte[] secret, Runnable done) {
        InetSocketAddress to = peers.address(peer);
        if (to == null) { // gone between the route and now
            LOG.infof("cancel request for process %d dropped: peer %d is gone", processId, peer);
            dropped.increment();
            done.run();
            return;
        }
        boolean[] over = new boolean[1]; // touched on the loop only
        Runnable finish = () -> {
            if (!over[0]) {
                over[0] = true;
                done.run();
            }
        };
        ChannelFuture connect = new Bootstrap().group(loop).channelFactory(tcp)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, TIMEOUT_MILLIS)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(to);
        Channel ch = connect.channel();
        ScheduledFuture<?> giveUp = loop.schedule(() -> {
            LOG.infof("cancel request for process %d forwarded to peer %d (%s): no answer within %d ms", processId, peer,
                    to, TIMEOUT_MILLIS);
            ch.close();
        }, TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> {
            giveUp.cancel(false);
            finish.run();
        });
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                LOG.infof("cancel request for process %d not forwarded to peer %d (%s): %s", processId, peer, to,
                        f.cause().toString());
                f.channel().close();
                finish.run();
                return;
            }
            forwarded.increment();
            ByteBuf out = f.channel().alloc().buffer(12 + secret.length);
            FrontendMessages.cancelRequest(out, processId, secret);
            f.channel().writeAndFlush(out);
            LOG.debugf("cancel request for process %d forwarded to peer %d (%s)", processId, peer, to);
        });
    }
}
