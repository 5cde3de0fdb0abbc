package dev.pgferry.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link PeerNames} against a DNS server on this machine: every question is asked anew, and "no such name" is told from "no answer". */
class PeerNamesTest {
    @Test
    void aServiceNameGivesEveryAddressAndAChangeIsSeenAtTheNextQuestion() throws Exception {
        try (TestDnsServer dns = new TestDnsServer();
                PeerNames names = new PeerNames(Optional.of("127.0.0.1:" + dns.port()), 500)) {
            dns.set("pgferry-peers.test", "127.0.0.1", "127.0.0.2");
            assertThat(names.all("pgferry-peers.test")).containsExactlyInAnyOrder(InetAddress.getByName("127.0.0.1"),
                    InetAddress.getByName("127.0.0.2"));
            dns.set("pgferry-peers.test", "127.0.0.1", "127.0.0.2", "127.0.0.3");
            assertThat(names.all("pgferry-peers.test")).as("no cache between two rounds").hasSize(3);
            dns.set("pgferry-peers.test", "127.0.0.2");
            assertThat(names.all("pgferry-peers.test")).containsExactly(InetAddress.getByName("127.0.0.2"));
        }
    }

    @Test
    void aNameThatDoesNotExistIsEmptyButNoAnswerIsAnError() throws Exception {
        try (TestDnsServer dns = new TestDnsServer();
                PeerNames names = new PeerNames(Optional.of("127.0.0.1:" + dns.port()), 300)) {
            assertThat(names.all("pgferry-5.pgferry-peers.test")).isEmpty();
        }
        int silent;
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            silent = s.getLocalPort(); // bound and never read: the question gets no answer
            try (PeerNames names = new PeerNames(Optional.of("127.0.0.1:" + silent), 200)) {
                assertThatThrownBy(() -> names.all("pgferry-peers.test")).isInstanceOf(IOException.class)
                        .hasMessageContaining("DNS did not answer");
            }
        }
    }

    @Test
    void aServerSettingWithoutAPortIsRefused() {
        assertThatThrownBy(() -> PeerNames.serverAt("10.0.0.10")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected host:port");
    }
}
