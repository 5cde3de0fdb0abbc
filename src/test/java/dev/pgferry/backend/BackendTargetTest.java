package dev.pgferry.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** A host starting with '/' is the directory of the server's Unix-domain socket, as in libpq. */
class BackendTargetTest {

    @Test
    void aHostNameIsTcp() {
        BackendTarget t = new BackendTarget("db.internal", 5432, "app");
        assertThat(t.unixSocket()).isFalse();
        assertThat(t.address()).isEqualTo("db.internal:5432");
        assertThat(BackendChannels.address(t)).isInstanceOfSatisfying(InetSocketAddress.class, a -> {
            assertThat(a.getHostString()).isEqualTo("db.internal");
            assertThat(a.getPort()).isEqualTo(5432);
        });
    }

    @Test
    void aDirectoryIsTheSocketFileNamedAfterThePort() {
        BackendTarget t = new BackendTarget("/var/run/postgresql", 5433, "app");
        assertThat(t.unixSocket()).isTrue();
        assertThat(t.address()).isEqualTo("/var/run/postgresql/.s.PGSQL.5433");
        assertThat(BackendChannels.address(t)).isInstanceOfSatisfying(DomainSocketAddress.class,
                a -> assertThat(a.path()).isEqualTo("/var/run/postgresql/.s.PGSQL.5433"));
        assertThat(new BackendTarget("/tmp/", 5432, "app").address()).isEqualTo("/tmp/.s.PGSQL.5432");
    }
}
