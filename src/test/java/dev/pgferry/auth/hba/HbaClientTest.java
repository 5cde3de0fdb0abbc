package dev.pgferry.auth.hba;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HbaClientTest {

    @Test
    void postgresql15Wording() throws Exception {
        HbaClient plain = new HbaClient(InetAddress.getByName("127.0.0.1"), false, "d", "u");
        assertThat(plain.rejectedMessage())
                .isEqualTo("pg_hba.conf rejects connection for host \"127.0.0.1\", user \"u\", database \"d\", no encryption");
        assertThat(plain.noEntryMessage())
                .isEqualTo("no pg_hba.conf entry for host \"127.0.0.1\", user \"u\", database \"d\", no encryption");
        HbaClient tls = new HbaClient(InetAddress.getByName("::1"), true, "d", "u");
        assertThat(tls.noEntryMessage())
                .isEqualTo("no pg_hba.conf entry for host \"::1\", user \"u\", database \"d\", SSL encryption");
        HbaClient local = new HbaClient(null, false, "d", "u");
        assertThat(local.rejectedMessage())
                .isEqualTo("pg_hba.conf rejects connection for host \"[local]\", user \"u\", database \"d\", no encryption");
    }

    /** As glibc's inet_ntop (what PostgreSQL's getnameinfo prints; checked with Python's socket.inet_ntop). */
    @ParameterizedTest
    @CsvSource({
        "::1,                          ::1",
        "::,                           ::",
        "2001:db8:0:0:0:0:0:1,         2001:db8::1",
        "2001:0db8:0:1:0:0:0:1,        2001:db8:0:1::1",
        "2001:db8:0:0:1:0:0:1,         2001:db8::1:0:0:1",
        "2001:db8:1:2:3:4:5:6,         2001:db8:1:2:3:4:5:6",
        "2001:db8:0:1:2:3:4:5,         2001:db8:0:1:2:3:4:5",
        "fe80:0:0:0:0:0:0:0,           fe80::",
        "0:0:0:0:0:0:0:2,              ::2",
        "::1.2.3.4,                    ::1.2.3.4",
        "ABCD:EF01::,                  abcd:ef01::",
    })
    void ipv6AsPostgresqlPrintsIt(String address, String printed) throws Exception {
        assertThat(HbaClient.ipv6(InetAddress.getByName(address).getAddress()))
                .isEqualTo(printed);
    }
}
