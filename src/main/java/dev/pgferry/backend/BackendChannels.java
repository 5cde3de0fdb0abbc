package dev.pgferry.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * How a backend is reached: over TCP, or over a Unix-domain socket when its host is a directory, as in libpq
 * (a host starting with {@code /} names the directory of the server's socket {@code .s.PGSQL.<port>}). A
 * Unix socket skips the loopback TCP stack on both sides: on a host shared with PostgreSQL it is the cheaper
 * path. It needs the native (epoll) transport.
 */
public final class BackendChannels {
    /**
     * How much a backend read asks for: never less than {@link #MIN_READ}. Netty's default guess shrinks to 64 bytes
     * after a few small responses (an UPDATE's CommandComplete and ReadyForQuery are 20 bytes), so the next larger
     * one, a SELECT's RowDescription and rows, took two or more reads. The buffer is pooled and given back once the
     * response is relayed, so a larger floor costs no memory per idle backend and no more per read.
     */
    static final int MIN_READ = 1024;
    static final RecvByteBufAllocator READS = new AdaptiveRecvByteBufAllocator(MIN_READ, 2048, 65536);

    private final ChannelFactory<? extends Channel> tcp;
    private final ChannelFactory<? extends Channel> unix;

    /** {@code unix}: null where the transport has no Unix-domain sockets. */
    public BackendChannels(ChannelFactory<? extends Channel> tcp, ChannelFactory<? extends Channel> unix) {
        this.tcp = tcp;
        this.unix = unix;
    }

    /** TCP only (the NIO transport, tests). */
    public static BackendChannels tcpOnly(ChannelFactory<? extends Channel> tcp) {
        return new BackendChannels(tcp, null);
    }

    /** The channels of Vert.x's transport: Unix-domain sockets with epoll or kqueue. */
    public static BackendChannels of(io.vertx.core.spi.transport.Transport transport) {
        return new BackendChannels(transport.channelFactory(false),
                transport.supportsDomainSockets() ? transport.channelFactory(true) : null);
    }

    /**
     * A bootstrap on {@code loop} for {@code target}'s kind of socket (TCP_NODELAY and keepalive on TCP only).
     *
     * @throws BackendException 08006 for a Unix socket without the native transport
     */
    Bootstrap bootstrap(EventLoop loop, BackendTarget target) throws BackendException {
        Bootstrap b = new Bootstrap().group(loop).option(ChannelOption.RCVBUF_ALLOCATOR, READS);
        if (target.unixSocket()) {
            if (unix == null) {
                throw new BackendException("08006", "could not connect to server on socket \"" + target.address()
                        + "\": Unix-domain sockets need the native transport (epoll), which is not in use", false,
                        null);
            }
            return b.channelFactory(unix);
        }
        return b.channelFactory(tcp).option(ChannelOption.TCP_NODELAY, true).option(ChannelOption.SO_KEEPALIVE, true);
    }

    /** The address to connect to: the socket file, or host and port (resolved at connect). */
    static SocketAddress address(BackendTarget target) {
        return target.unixSocket() ? new DomainSocketAddress(target.address())
                : InetSocketAddress.createUnresolved(target.host(), target.port());
    }
}
