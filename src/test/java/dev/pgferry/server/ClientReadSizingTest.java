package dev.pgferry.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.RecvByteBufAllocator;
import org.junit.jupiter.api.Test;

/**
 * A client read asks for at least {@link ProxyServer#MIN_CLIENT_READ} bytes however short the last queries were, so
 * a 113-byte INSERT after BEGIN's 12 bytes arrives in one read, not two.
 */
class ClientReadSizingTest {

    @Test
    void theGuessStaysAtTheFloorAfterManyShortQueries() {
        RecvByteBufAllocator.Handle h = ProxyServer.CLIENT_READS.newHandle();
        for (int query = 0; query < 50; query++) {
            h.reset(null);
            h.attemptedBytesRead(h.guess());
            h.lastBytesRead(12); // Query "BEGIN;"
            h.readComplete();
        }
        assertThat(h.guess()).isGreaterThanOrEqualTo(ProxyServer.MIN_CLIENT_READ);
    }
}
