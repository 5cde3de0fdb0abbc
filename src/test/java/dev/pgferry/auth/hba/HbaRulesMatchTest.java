package dev.pgferry.auth.hba;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HbaRulesMatchTest {

    private static HbaClient tcp(String address, boolean tls, String database, String user) throws Exception {
        return new HbaClient(InetAddress.getByName(address), tls, database, user);
    }

    /** The line number that decides, 0 for none. */
    private static int decide(String file, HbaClient client) throws Exception {
        return HbaParserTest.parse(file).match(client).map(HbaRule::line).orElse(0);
    }

    @Test
    void theFirstMatchingLineWins() throws Exception {
        String file = """
                host app alice 127.0.0.1/32 reject
                host app all   127.0.0.0/8  md5
                host all all   0.0.0.0/0    scram-sha-256
                """;
        assertThat(decide(file, tcp("127.0.0.1", false, "app", "alice"))).isEqualTo(1);
        assertThat(decide(file, tcp("127.0.0.2", false, "app", "alice"))).isEqualTo(2);
        assertThat(decide(file, tcp("127.0.0.1", false, "app", "bob"))).isEqualTo(2);
        assertThat(decide(file, tcp("127.0.0.1", false, "other", "alice"))).isEqualTo(3);
        assertThat(decide(file, tcp("::1", false, "other", "alice"))).as("no IPv6 line").isZero();
        assertThat(decide("", tcp("127.0.0.1", false, "app", "alice"))).as("an empty file rejects all").isZero();
    }

    @ParameterizedTest(name = "{0} tls={1} unix={2}")
    @CsvSource({
        // line type, TLS, Unix socket, matches
        "local,     false, true,  true",
        "local,     false, false, false",
        "local,     true,  false, false",
        "host,      false, false, true",
        "host,      true,  false, true",
        "host,      false, true,  false",
        "hostssl,   true,  false, true",
        "hostssl,   false, false, false",
        "hostssl,   false, true,  false",
        "hostnossl, false, false, true",
        "hostnossl, true,  false, false",
        "hostnossl, false, true,  false",
    })
    void connectionTypes(String type, boolean tls, boolean unix, boolean matches) throws Exception {
        String line = type + " all all " + (type.equals("local") ? "" : "all ") + "trust";
        HbaClient c = unix ? new HbaClient(null, false, "d", "u") : tcp("10.1.2.3", tls, "d", "u");
        assertThat(decide(line, c)).isEqualTo(matches ? 1 : 0);
    }

    @ParameterizedTest(name = "{0} ∋ {1}: {2}")
    @CsvSource({
        "10.0.0.0/8,                 10.255.255.255, true",
        "10.0.0.0/8,                 11.0.0.0,       false",
        "10.0.0.0/8,                 9.255.255.255,  false",
        "10.1.2.3/32,                10.1.2.3,       true",
        "10.1.2.3/32,                10.1.2.4,       false",
        "10.1.2.3/31,                10.1.2.2,       true",
        "10.1.2.3/0,                 255.255.255.255, true",
        "0.0.0.0/0,                  ::1,            false",
        "192.168.0.0/23,             192.168.1.200,  true",
        "192.168.0.0/23,             192.168.2.1,    false",
        "172.16.0.0/12,              172.31.255.255, true",
        "172.16.0.0/12,              172.32.0.0,     false",
        "::1/128,                    ::1,            true",
        "::1/128,                    ::2,            false",
        "::1/128,                    127.0.0.1,      false",
        "::/0,                       2001:db8::1,    true",
        "::/0,                       10.0.0.1,       false",
        "2001:db8::/32,              2001:db8:ffff:ffff:ffff:ffff:ffff:ffff, true",
        "2001:db8::/32,              2001:db9::,     false",
        "fe80::/10,                  febf::1,        true",
        "fe80::/10,                  fec0::1,        false",
        "2001:db8::/127,             2001:db8::1,    true",
        "2001:db8::/127,             2001:db8::2,    false",
        "all,                        ::1,            true",
        "all,                        127.0.0.1,      true",
        "10.0.0.0 255.0.0.0,         10.9.9.9,       true",
        "10.0.0.0 255.0.0.0,         11.9.9.9,       false",
        "10.0.0.0 255.0.255.0,       10.9.0.9,       true",
        "10.0.0.0 255.0.255.0,       10.9.1.9,       false",
        "::ffff:10.0.0.1/128,        10.0.0.1,       false",
    })
    void addresses(String range, String client, boolean matches) throws Exception {
        assertThat(decide("host all all " + range + " trust", tcp(client, false, "d", "u")))
                .isEqualTo(matches ? 1 : 0);
    }

    @ParameterizedTest(name = "{0} {1} ← db={2} user={3}: {4}")
    @CsvSource({
        "all,             all,         d,     u,     true",
        "d,               u,           d,     u,     true",
        "D,               u,           d,     u,     false",
        "d,               U,           d,     u,     false",
        "'a,b,d',         'x,u',       d,     u,     true",
        "'a,b',           all,         d,     u,     false",
        "sameuser,        all,         u,     u,     true",
        "sameuser,        all,         d,     u,     false",
        "replication,     all,         replication, u, false",
        "'\"replication\"', all,       replication, u, true",
        "'\"all\"',       all,         d,     u,     false",
        "'\"all\"',       all,         all,   u,     true",
        "all,             '\"all\"',   d,     u,     false",
        "all,             sameuser,    d,     sameuser, true",
    })
    void databasesAndUsers(String databases, String users, String database, String user, boolean matches)
            throws Exception {
        assertThat(decide("local " + databases + " " + users + " trust", new HbaClient(null, false, database, user)))
                .isEqualTo(matches ? 1 : 0);
    }

    @Test
    void matchGivesTheLinesMethod() throws Exception {
        Optional<HbaRule> r = HbaParserTest.parse("local all all trust\nhost all all all scram-sha-256")
                .match(tcp("127.0.0.1", true, "d", "u"));
        assertThat(r).map(HbaRule::method).contains(HbaMethod.SCRAM_SHA_256);
    }
}
