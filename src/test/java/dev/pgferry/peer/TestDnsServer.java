package dev.pgferry.peer;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An authoritative DNS server for a zone the test writes, on UDP at 127.0.0.1 (Netty's DNS codec): A records with a TTL
 * of 0, a name with no records is NXDOMAIN, AAAA questions for a known name get an empty answer. What CoreDNS answers
 * for a headless Service and its pods, without a cluster.
 */
final class TestDnsServer implements AutoCloseable {
    private final NioEventLoopGroup loop = new NioEventLoopGroup(1);
    private final Map<String, List<InetAddress>> zone = new ConcurrentHashMap<>();
    private final Channel channel;
    /** Questions answered, for the test to see that the resolver does ask. */
    final AtomicInteger questions = new AtomicInteger();

    TestDnsServer() throws InterruptedException {
        channel = new Bootstrap().group(loop).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<NioDatagramChannel>() {
                    @Override
                    protected void initChannel(NioDatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                new Answer());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Sets {@code name}'s A records ({@code addresses} empty: the name is gone). */
    void set(String name, String... addresses) throws Exception {
        String key = name.toLowerCase(Locale.ROOT);
        if (addresses.length == 0) {
            zone.remove(key);
            return;
        }
        InetAddress[] all = new InetAddress[addresses.length];
        for (int i = 0; i < addresses.length; i++) {
            all[i] = InetAddress.getByName(addresses[i]);
        }
        zone.put(key, List.of(all));
    }

    private final class Answer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            questions.incrementAndGet();
            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
            DatagramDnsResponse r = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            r.setAuthoritativeAnswer(true);
            r.setRecursionDesired(query.isRecursionDesired());
            r.addRecord(DnsSection.QUESTION, q);
            String name = q.name().toLowerCase(Locale.ROOT);
            List<InetAddress> at = zone.get(name.endsWith(".") ? name.substring(0, name.length() - 1) : name);
            if (at == null) {
                r.setCode(DnsResponseCode.NXDOMAIN);
            } else if (q.type() == DnsRecordType.A) {
                for (InetAddress a : at) {
                    if (a instanceof Inet4Address) {
                        r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), DnsRecordType.A, 0,
                                Unpooled.wrappedBuffer(a.getAddress())));
                    }
                }
            }
            ctx.writeAndFlush(r);
        }
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        loop.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
