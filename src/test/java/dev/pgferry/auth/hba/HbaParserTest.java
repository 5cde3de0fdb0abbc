package dev.pgferry.auth.hba;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.auth.hba.HbaRule.ClientCert;
import dev.pgferry.auth.hba.HbaRule.ConnectionType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HbaParserTest {

    static HbaRules parse(String text) throws HbaException {
        return parse(text, Map.of());
    }

    static HbaRules parse(String text, Map<String, String> files) throws HbaException {
        return HbaRules.parse("hba.conf", text, name -> {
            String s = files.get(name);
            if (s == null) {
                throw new java.nio.file.NoSuchFileException(name);
            }
            return s;
        });
    }

    static HbaRule only(String text) throws HbaException {
        List<HbaRule> rules = parse(text).rules();
        assertThat(rules).hasSize(1);
        return rules.get(0);
    }

    @Test
    void everyLineForm() throws HbaException {
        List<HbaRule> r = parse("""
                # TYPE   DATABASE  USER   ADDRESS          METHOD
                local     all       all                     trust
                host      app       alice  10.0.0.0/8       scram-sha-256
                hostssl   app       bob    ::1/128          md5
                hostnossl all       carol  192.168.1.0 255.255.255.0 password
                host      all       all    all              reject
                """).rules();
        assertThat(r).extracting(HbaRule::line).containsExactly(2, 3, 4, 5, 6);
        assertThat(r).extracting(HbaRule::type).containsExactly(ConnectionType.LOCAL, ConnectionType.HOST,
                ConnectionType.HOSTSSL, ConnectionType.HOSTNOSSL, ConnectionType.HOST);
        assertThat(r).extracting(HbaRule::method).containsExactly(HbaMethod.TRUST, HbaMethod.SCRAM_SHA_256,
                HbaMethod.MD5, HbaMethod.PASSWORD, HbaMethod.REJECT);
        assertThat(r.get(0).address()).isNull();
        assertThat(r.get(0).databases()).isEqualTo(new NameList(true, false, Set.of()));
        assertThat(r.get(1).databases().names()).containsExactly("app");
        assertThat(r.get(1).users().names()).containsExactly("alice");
        assertThat(r.get(1).address()).isEqualTo(AddressRange.of(new byte[] {10, 0, 0, 0},
                new byte[] {(byte) 255, 0, 0, 0}));
        assertThat(r.get(3).address()).isEqualTo(AddressRange.of(new byte[] {(byte) 192, (byte) 168, 1, 0},
                new byte[] {(byte) 255, (byte) 255, (byte) 255, 0}));
        assertThat(r.get(4).address().isAll()).isTrue();
    }

    @Test
    void listsKeywordsAndQuoting() throws HbaException {
        HbaRule r = only("host a,\"all\",b, c sameuser,\"x y\",all,\"q\"\"uote\" 0.0.0.0/0 trust");
        assertThat(r.databases()).isEqualTo(new NameList(false, false, Set.of("a", "all", "b", "c")));
        // sameuser is a keyword for databases only; in the user field it is a name, as in PostgreSQL
        assertThat(r.users()).isEqualTo(new NameList(true, false, Set.of("sameuser", "x y", "q\"uote")));
        assertThat(only("local sameuser,\"sameuser\" all trust").databases())
                .isEqualTo(new NameList(false, true, Set.of("sameuser")));
        assertThat(only("local \"#not a comment\" all trust").databases().names()).containsExactly("#not a comment");
    }

    @Test
    void replicationMatchesNoDatabaseButAllStillDoes() throws HbaException {
        assertThat(only("local replication all trust").databases()).isEqualTo(new NameList(false, false, Set.of()));
        assertThat(only("local replication,all all trust").databases().all()).isTrue();
        assertThat(only("local \"replication\" all trust").databases().names()).containsExactly("replication");
    }

    @Test
    void commentsBlankLinesAndContinuations() throws HbaException {
        List<HbaRule> r = parse("""
                
                   # only a comment
                local all all trust # after the line
                host all \\
                  all 127.0.0.1/32 \\
                  md5
                host all all ::/0 reject#glued
                """).rules();
        assertThat(r).extracting(HbaRule::line).containsExactly(3, 4, 7);
        assertThat(r.get(1).method()).isEqualTo(HbaMethod.MD5);
        assertThat(r.get(2).method()).isEqualTo(HbaMethod.REJECT);
        assertThat(parse("local all all trust\r\nlocal all all reject\r\n").rules()).hasSize(2);
        assertThat(parse("").rules()).isEmpty();
    }

    @Test
    void cidrEdges() throws HbaException {
        assertThat(only("host all all 1.2.3.4/32 trust").address())
                .isEqualTo(AddressRange.of(new byte[] {1, 2, 3, 4}, new byte[] {-1, -1, -1, -1}));
        assertThat(only("host all all 1.2.3.4/0 trust").address())
                .isEqualTo(AddressRange.of(new byte[] {1, 2, 3, 4}, new byte[4]));
        assertThat(only("host all all 10.1.0.0/12 trust").address())
                .isEqualTo(AddressRange.of(new byte[] {10, 1, 0, 0}, new byte[] {-1, (byte) 0xf0, 0, 0}));
        byte[] v6mask = new byte[16];
        v6mask[0] = -1;
        v6mask[1] = (byte) 0x80;
        assertThat(only("host all all fe80::/9 trust").address())
                .isEqualTo(AddressRange.of(bytes("fe80::"), v6mask));
        assertThat(only("host all all ::1/128 trust").address())
                .isEqualTo(AddressRange.of(bytes("::1"), AddressRange.prefixMask(16, 128)));
        assertThat(only("host all all fe80:: ffff:ffff:: trust").address())
                .isEqualTo(AddressRange.of(bytes("fe80::"), AddressRange.prefixMask(16, 32)));
    }

    static byte[] bytes(String ip) {
        return io.netty.util.NetUtil.createByteArrayFromIpAddressString(ip);
    }

    /** What PostgreSQL accepts and pgferry does not, and what neither accepts: refused with file:line. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "local all all peer                     | hba.conf:2: authentication method \"peer\" is not supported by pgferry (supported: trust, reject, md5, scram-sha-256, password, cert)",
        "host all all all magic                 | hba.conf:2: invalid authentication method \"magic\"",
        "hosts all all all trust                | hba.conf:2: invalid connection type \"hosts\"",
        "hostgssenc all all all trust           | hba.conf:2: connection type \"hostgssenc\" is not supported: pgferry has no GSSAPI encryption",
        "local,host all all trust               | hba.conf:2: multiple values specified for connection type",
        "local                                  | hba.conf:2: end-of-line before database specification",
        "local all                              | hba.conf:2: end-of-line before role specification",
        "local all all                          | hba.conf:2: end-of-line before authentication method",
        "host all all                           | hba.conf:2: end-of-line before IP address specification",
        "host all all 10.0.0.0/8                | hba.conf:2: end-of-line before authentication method",
        "host all all 10.0.0.0 trust            | hba.conf:2: invalid IP mask \"trust\"",
        "host all all 10.0.0.0                  | hba.conf:2: end-of-line before netmask specification",
        "host all all 10.0.0.0 ffff:: trust     | hba.conf:2: IP address and mask do not match",
        "host all all 10.0.0.0/33 trust         | hba.conf:2: invalid CIDR mask in address \"10.0.0.0/33\"",
        "host all all ::/129 trust              | hba.conf:2: invalid CIDR mask in address \"::/129\"",
        "host all all 10.0.0.0/ trust           | hba.conf:2: invalid CIDR mask in address \"10.0.0.0/\"",
        "host all all 10.0.0.0/-1 trust         | hba.conf:2: invalid CIDR mask in address \"10.0.0.0/-1\"",
        "host all all 10.0.0.0/8x trust         | hba.conf:2: invalid CIDR mask in address \"10.0.0.0/8x\"",
        "host all all 10.0.0.256/32 trust       | hba.conf:2: invalid IP address \"10.0.0.256/32\": host names and domain suffixes are not supported, give the address as CIDR",
        "host all all db.example.com trust      | hba.conf:2: invalid IP address \"db.example.com\": host names and domain suffixes are not supported, give the address as CIDR",
        "host all all .example.com trust        | hba.conf:2: invalid IP address \".example.com\": host names and domain suffixes are not supported, give the address as CIDR",
        "host all all samenet trust             | hba.conf:2: \"samenet\" is not supported: give the address as CIDR",
        "host all all samehost trust            | hba.conf:2: \"samehost\" is not supported: give the address as CIDR",
        "host all all 1.2.3.4,5.6.7.8/32 trust  | hba.conf:2: multiple values specified for IP address",
        "local all all trust,md5                | hba.conf:2: multiple values specified for authentication method",
        "local samerole all trust               | hba.conf:2: \"samerole\" is not supported: pgferry knows no role membership",
        "local samegroup all trust              | hba.conf:2: \"samegroup\" is not supported: pgferry knows no role membership",
        "local all +admins trust                | hba.conf:2: group \"+admins\" is not supported: pgferry knows no role membership",
        "local /^app all trust                  | hba.conf:2: regular expression \"/^app\" is not supported",
        "local all all,,bob trust               | hba.conf:2: empty item in a comma-separated list",
        "local all bob, trust                   | hba.conf:2: end-of-line before authentication method",
        "local \"all all trust                  | hba.conf:2: unterminated quoted string",
        "local @missing all trust               | hba.conf:2: could not read @missing: missing",
    })
    void refusedWithFileAndLine(String line, String message) {
        assertThatThrownBy(() -> parse("local all postgres trust\n" + line + "\n")).isInstanceOf(HbaException.class)
                .hasMessage(message);
    }

    @Test
    void certLinesAndClientcert() throws HbaException {
        List<HbaRule> r = parse("""
                hostssl all a 127.0.0.1/32 cert
                hostssl all b 127.0.0.1/32 cert clientcert=verify-full clientname=CN
                hostssl all c 127.0.0.1/32 scram-sha-256 clientcert=verify-full
                hostssl all d 127.0.0.1/32 md5 clientcert=verify-ca
                hostssl all e 127.0.0.1/32 trust clientcert="verify-full"
                hostssl all f 127.0.0.1/32 password clientcert=verify-ca,clientcert=verify-full
                hostssl all g 127.0.0.1/32 md5 clientcert=verify-full "clientcert=verify-ca"
                hostssl all h 127.0.0.1/32 reject clientcert=verify-ca
                hostssl all i 127.0.0.1/32 md5
                host    all j 127.0.0.1/32 md5
                """).rules();
        assertThat(r).extracting(HbaRule::method).containsExactly(HbaMethod.CERT, HbaMethod.CERT,
                HbaMethod.SCRAM_SHA_256, HbaMethod.MD5, HbaMethod.TRUST, HbaMethod.PASSWORD, HbaMethod.MD5,
                HbaMethod.REJECT, HbaMethod.MD5, HbaMethod.MD5);
        // cert implies verify-full; the last clientcert of a line wins, as in PostgreSQL's pg_hba_file_rules
        assertThat(r).extracting(HbaRule::clientCert).containsExactly(ClientCert.VERIFY_FULL, ClientCert.VERIFY_FULL,
                ClientCert.VERIFY_FULL, ClientCert.VERIFY_CA, ClientCert.VERIFY_FULL, ClientCert.VERIFY_FULL,
                ClientCert.VERIFY_CA, ClientCert.VERIFY_CA, ClientCert.OFF, ClientCert.OFF);
    }

    /**
     * The errors PostgreSQL 15 logs for these lines (checked against its pg_hba_file_rules and server log), and
     * pgferry's own for what PostgreSQL takes and pgferry cannot honour.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "host all all 127.0.0.1/32 cert                          | cert authentication is only supported on hostssl connections",
        "hostnossl all all 127.0.0.1/32 cert                     | cert authentication is only supported on hostssl connections",
        "local all all cert                                      | cert authentication is only supported on hostssl connections",
        "host all all 127.0.0.1/32 cert clientcert=verify-full   | cert authentication is only supported on hostssl connections",
        "host all all 127.0.0.1/32 md5 clientcert=verify-full    | clientcert can only be configured for \"hostssl\" rows",
        "local all all trust clientcert=verify-ca                | clientcert can only be configured for \"hostssl\" rows",
        "hostssl all all 127.0.0.1/32 cert clientcert=verify-ca  | clientcert only accepts \"verify-full\" when using \"cert\" authentication",
        "hostssl all all 127.0.0.1/32 cert \"clientcert=verify-ca\" | clientcert only accepts \"verify-full\" when using \"cert\" authentication",
        "hostssl all all 127.0.0.1/32 md5 clientcert=1           | invalid value for clientcert: \"1\"",
        "hostssl all all 127.0.0.1/32 md5 clientcert=no-verify   | invalid value for clientcert: \"no-verify\"",
        "hostssl all all 127.0.0.1/32 md5 clientcert=VERIFY-CA   | invalid value for clientcert: \"VERIFY-CA\"",
        "hostssl all all 127.0.0.1/32 md5 clientcert=            | invalid value for clientcert: \"\"",
        "hostssl all all 127.0.0.1/32 md5 clientcert             | authentication option not in name=value format: clientcert",
        "hostssl all all 127.0.0.1/32 md5 clientname=XX          | invalid value for clientname: \"XX\"",
        "host all all 127.0.0.1/32 md5 clientname=CN             | clientname can only be configured for \"hostssl\" rows",
        "hostssl all all 127.0.0.1/32 md5 bogus=1                | unrecognized authentication option name: \"bogus\"",
        "hostssl all all 127.0.0.1/32 cert clientname=DN         | clientname=DN is not supported by pgferry: the certificate's CN is compared with the user (clientname=CN)",
        "hostssl all all 127.0.0.1/32 cert map=certmap           | authentication option \"map\" is not supported by pgferry",
        "host all all 127.0.0.1/32 md5 ldapserver=x              | authentication option \"ldapserver\" is not supported by pgferry",
    })
    void clientcertErrorsAtLoad(String line, String message) {
        assertThatThrownBy(() -> parse("local all postgres trust\n" + line + "\n")).isInstanceOf(HbaException.class)
                .hasMessage("hba.conf:2: " + message);
    }

    @Test
    void theReadmesExample() throws HbaException {
        List<HbaRule> r = parse("""
                # TYPE     DATABASE        USER            ADDRESS            METHOD
                local      all             all                                trust
                hostssl    all             app             10.0.0.0/8         scram-sha-256
                hostnossl  all             all             all                reject
                host       reports,"Sales" alice,bob       192.168.1.0/24     md5
                host       sameuser        all             ::1/128            password
                host       all             @admins         127.0.0.1 255.255.255.255  scram-sha-256
                """, Map.of("admins", "root\n")).rules();
        assertThat(r).hasSize(6);
        assertThat(r.get(3).databases().names()).containsExactlyInAnyOrder("reports", "Sales");
        assertThat(r.get(5).users().names()).containsExactly("root");
    }

    @Test
    void includedNameFiles() throws HbaException {
        HbaRule r = parse("host @dbs @users,carol all md5", Map.of(
                "dbs", "app1, app2 # the apps\nsameuser\n",
                "users", "alice\n\"bob smith\" @more\n",
                "more", "dave")).rules().get(0);
        assertThat(r.databases()).isEqualTo(new NameList(false, true, Set.of("app1", "app2")));
        assertThat(r.users()).isEqualTo(new NameList(false, false, Set.of("alice", "bob smith", "dave", "carol")));
        assertThatThrownBy(() -> parse("local @loop all trust", Map.of("loop", "@loop")))
                .hasMessage("hba.conf:1: @loop: files included more than 10 deep");
    }

    @Test
    void loadsAFileAndItsIncludesBesideIt(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("admins"), "alice bob\n");
        Path hba = dir.resolve("hba.conf");
        Files.writeString(hba, "local all @admins trust\nlocal all all reject\n");
        HbaRules rules = HbaRules.load(hba);
        assertThat(rules.rules()).hasSize(2);
        assertThat(rules.rules().get(0).users().names()).containsExactlyInAnyOrder("alice", "bob");
        Files.writeString(hba, "local all all trust\nhost all all 10.0.0.0/8 ident\n");
        assertThatThrownBy(() -> HbaRules.load(hba)).hasMessageStartingWith(hba + ":2: authentication method \"ident\"");
        assertThatThrownBy(() -> HbaRules.load(dir.resolve("absent.conf")))
                .hasMessageStartingWith("could not read " + dir.resolve("absent.conf"));
    }
}
