package dev.pgferry.peer;

import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks DNS for the peers' names (pgferry.peers-dns), every round anew. Not the JVM's resolver: it keeps an answer 30 s
 * and a "no such name" 10 s (networkaddress.cache.ttl), so a pod gone would still count, and a new one not yet, for that
 * long after the headless Service said otherwise. The servers are those of /etc/resolv.conf, with its search domains
 * and ndots (in a pod: the cluster DNS and the namespace's domains), or pgferry.peers-dns-server. One thread of its
 * own; calls block (the peer watch's thread makes them).
 */
final class PeerNames implements AutoCloseable {
    private final NioEventLoopGroup loop = new NioEventLoopGroup(1, r -> {
        Thread t = new Thread(r, "pgferry-peers-dns");
        t.setDaemon(true);
        return t;
    });
    private final DnsNameResolver resolver;
    private final long timeoutMillis;

    /** {@code server}: {@code host:port} of the DNS server to ask, or empty for the system's. */
    PeerNames(Optional<String> server, long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
        DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop.next())
                .channelType(NioDatagramChannel.class)
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                .queryTimeoutMillis(timeoutMillis)
                .nameServerProvider(server.map(PeerNames::serverAt)
                        .<io.netty.resolver.dns.DnsServerAddressStreamProvider>map(SingletonDnsServerAddressStreamProvider::new)
                        .orElseGet(DnsServerAddressStreamProviders::platformDefault));
        this.resolver = b.build();
    }

    static InetSocketAddress serverAt(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon <= 0 || colon == spec.length() - 1) {
            throw new IllegalArgumentException("pgferry.peers-dns-server is \"" + spec + "\": expected host:port");
        }
        return new InetSocketAddress(spec.substring(0, colon), Integer.parseInt(spec.substring(colon + 1)));
    }

    /**
     * The addresses of {@code name}, of one family (IPv4 when there is any: a dual-stack pod has one of each, and is one
     * replica); empty when DNS says the name does not exist or has no address.
     *
     * @throws IOException when DNS did not answer (timeout, a server failure): nothing is known
     */
    List<InetAddress> all(String name) throws IOException {
        try {
            List<InetAddress> all = resolver.resolveAll(name).get(4 * timeoutMillis, TimeUnit.MILLISECONDS);
            boolean v4 = all.stream().anyMatch(a -> a instanceof Inet4Address);
            return all.stream().filter(a -> (a instanceof Inet4Address) == v4).distinct().toList();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException u && noSuchName(u)) {
                return List.of();
            }
            throw new IOException("DNS did not answer for " + name + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("DNS did not answer for " + name + " within " + 4 * timeoutMillis + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking DNS for " + name, e);
        }
    }

    /** An answer saying "no such name" (or no address for it), not a timeout or a server failure. */
    private static boolean noSuchName(UnknownHostException e) {
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof DnsErrorCauseException d) {
                return d.getCode() == DnsResponseCode.NXDOMAIN;
            }
            if (!(c instanceof UnknownHostException)) {
                return false; // a timeout, a refused query, an I/O error
            }
        }
        return true;
    }

    @Override
    public void close() {
        resolver.close();
        loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }
}
