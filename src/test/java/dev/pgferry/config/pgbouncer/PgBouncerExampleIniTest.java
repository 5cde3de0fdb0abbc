package dev.pgferry.config.pgbouncer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PgBouncer's own documented examples (its etc/pgbouncer.ini and pgbouncer-minimal.ini, kept in
 * src/test/resources/pgbouncer under their ISC licence) as pgferry reads them: the files as shipped, and each
 * commented-out example line of pgbouncer.ini switched on in turn.
 */
class PgBouncerExampleIniTest {
    @TempDir
    Path dir;

    static Path resource(String name) throws URISyntaxException {
        return Path.of(PgBouncerExampleIniTest.class.getResource("/pgbouncer/" + name).toURI());
    }

    private static Map<String, String> values(IniMapping.Result r) {
        Map<String, String> out = new TreeMap<>();
        r.settings().forEach((k, s) -> out.put(k, s.value()));
        return out;
    }

    @Test
    void theShippedExampleMapsWithItsLinesAndListsWhatPgferryIgnores() throws Exception {
        Path ini = resource("pgbouncer.ini");
        IniMapping.Result r = IniMapping.map(ini);
        assertThat(values(r)).containsEntry("listen-host", "localhost").containsEntry("listen-port", "6432")
                .containsEntry("auth.type", "md5").containsEntry("auth.users-file", "/etc/pgbouncer/userlist.txt")
                // PgBouncer's defaults for what the file leaves out
                .containsEntry("pool.mode", "session").containsEntry("pool.max-client-connections", "100")
                .containsEntry("tls.server.mode", "prefer").containsEntry("client-login-timeout", "60s")
                // no "*" entry: PgBouncer serves the names of [databases] only (none here)
                .containsEntry("backend.serve-unlisted", "false");
        List<String> lines = Files.readAllLines(ini);
        IniEntry port = r.settings().get("listen-port").origin();
        assertThat(lines.get(port.line() - 1)).isEqualTo("listen_port = 6432");
        assertThat(r.settings().get("pool.mode").origin()).isNull();
        assertThat(r.unsupported()).containsExactly(
                "logfile (" + ini + ":" + (lines.indexOf("logfile = /var/log/pgbouncer/pgbouncer.log") + 1) + ")",
                "pidfile (" + ini + ":" + (lines.indexOf("pidfile = /var/run/pgbouncer/pgbouncer.pid") + 1) + ")");
    }

    @Test
    void theMinimalExampleIsPgBouncersDefaults() throws Exception {
        IniMapping.Result r = IniMapping.map(resource("pgbouncer-minimal.ini"));
        assertThat(values(r)).containsEntry("listen-host", "127.0.0.1").containsEntry("pool.mode", "session")
                .containsEntry("auth.type", "md5");
        assertThat(r.unsupported()).isEmpty();
    }

    /**
     * Every commented-out {@code key = value} example of pgbouncer.ini, switched on alone in its section: none is a
     * syntax error, and each is mapped, listed as unsupported, or refused with its file and line. The outcome of
     * every line is pinned, so a change of mapping shows here.
     */
    @Test
    void everyDocumentedExampleLineIsMappedWarnedOrRefused() throws Exception {
        List<String> lines = Files.readAllLines(resource("pgbouncer.ini"));
        Pattern example = Pattern.compile("^;\\s?([a-z_0-9*]+\\s*=.*)$");
        Map<String, String> outcome = new TreeMap<>();
        String section = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("[")) {
                section = line;
            }
            Matcher m = example.matcher(line);
            if (!m.matches() || section == null) {
                continue;
            }
            List<String> copy = new ArrayList<>(lines);
            copy.set(i, m.group(1));
            Path ini = dir.resolve("example-" + (i + 1) + ".ini");
            Files.write(ini, copy);
            String key = section + " " + m.group(1).split("\\s*=")[0];
            int lineNo = i + 1;
            try {
                IniMapping.Result r = IniMapping.map(ini);
                String where = ini + ":" + (i + 1);
                List<String> warned = r.unsupported().stream().filter(u -> u.contains(where)).toList();
                List<String> mapped = r.settings().values().stream()
                        .filter(s -> s.origin() != null && s.origin().line() == lineNo)
                        .map(s -> s.key() + "=" + s.value()).sorted().toList();
                String accepted = mapped.isEmpty() && warned.isEmpty() ? "accepted, nothing to set" : "";
                outcome.merge(key, accepted + (mapped.isEmpty() ? "" : "mapped " + mapped)
                        + (warned.isEmpty() ? "" : " warned " + warned.stream().map(w -> w.replace(" (" + where + ")", ""))
                                .collect(Collectors.joining(", "))), (a, b) -> a + " | " + b);
            } catch (IniException e) {
                assertThat(e.getMessage()).as(key).contains(ini + ":" + (i + 1)).doesNotContain("syntax error");
                outcome.merge(key, "refused: " + e.getMessage().replace(" (" + ini + ":" + (i + 1) + ")", ""),
                        (a, b) -> a + " | " + b);
            }
        }
        outcome.forEach((k, v) -> System.out.println("EXAMPLE " + k + " -> " + v));
        assertThat(outcome).hasSizeGreaterThan(70);
        assertThat(outcome.get("[databases] nondefaultdb")).contains("databases.\"nondefaultdb\".pool-size=50",
                "databases.\"nondefaultdb\".reserve-size=10");
        assertThat(outcome.get("[databases] bardb")).contains("databases.\"bardb\".dbname=bazdb",
                "databases.\"bardb\".host=localhost");
        assertThat(outcome.get("[databases] forcedb")).startsWith("refused: database forcedb's client_encoding");
        assertThat(outcome.get("[databases] *")).contains("backend.host=testserver");
        assertThat(outcome.get("[users] user1")).contains("users.\"user1\".pool-size=5", "users.\"user1\".reserve-size=2",
                "users.\"user1\".pool-mode=transaction", "users.\"user1\".max-user-connections=10",
                "warned user1 max_user_client_connections");
        assertThat(outcome.get("[pgbouncer] pool_mode")).isEqualTo("mapped [pool.mode=session]");
        assertThat(outcome.get("[pgbouncer] server_lifetime")).isEqualTo("mapped [pool.max-lifetime=3600s]");
        assertThat(outcome.get("[pgbouncer] query_wait_timeout")).isEqualTo("mapped [pool.query-wait-timeout=120s]");
        assertThat(outcome.get("[pgbouncer] client_login_timeout")).isEqualTo("mapped [client-login-timeout=60s]");
        // honoured without a setting: pgferry passes every startup parameter to the server's check already
        assertThat(outcome.get("[pgbouncer] ignore_startup_parameters")).isEqualTo("accepted, nothing to set");
        assertThat(outcome.get("[pgbouncer] client_tls_sslmode")).startsWith("mapped [tls.client.mode=");
        assertThat(outcome.values()).noneMatch(String::isBlank);
    }

    @Test
    void whatPgferryCannotHonourStopsWithFileAndLine() throws IOException {
        String[][] refused = {
            {"pool_mode = statement", "pool_mode = statement cannot be honoured"},
            {"auth_type = pam", "auth_type = pam cannot be honoured"},
            {"auth_type = hba", "auth_type = hba needs auth_hba_file"},
            {"listen_addr = 127.0.0.1,::1", "listen_addr with several addresses"},
            {"client_tls_sslmode = verify-full", "cannot be honoured without auth_type = cert"},
            {"default_pool_size = lots", "invalid value \"lots\" for parameter default_pool_size"},
            {"server_lifetime = 1h", "(seconds, without a unit)"},
        };
        for (String[] r : refused) {
            Path ini = dir.resolve("r.ini");
            Files.writeString(ini, "[databases]\n[pgbouncer]\n" + r[0] + "\n");
            assertThatThrownBy(() -> IniMapping.map(ini)).as(r[0]).isInstanceOf(IniException.class)
                    .hasMessageContaining(r[1]).hasMessageContaining(ini + ":3");
        }
        Path db = dir.resolve("db.ini");
        Files.writeString(db, "[databases]\napp = host=db1 user=app password=md5abcdef\n[pgbouncer]\n");
        assertThatThrownBy(() -> IniMapping.map(db)).hasMessageContaining("plaintext password only")
                .hasMessageContaining(db + ":2");
        Files.writeString(db, "[databases]\napp = host=db1,db2\n[pgbouncer]\n");
        assertThatThrownBy(() -> IniMapping.map(db)).hasMessageContaining("connects to one host");
        Files.writeString(db, "[databases]\napp = hots=db1\n[pgbouncer]\n");
        assertThatThrownBy(() -> IniMapping.map(db)).hasMessageContaining("unrecognized connection parameter: hots");
    }

    @Test
    void certificateAuthenticationMapsToPgferrysCert() throws IOException {
        Path ini = dir.resolve("cert.ini");
        Files.writeString(ini, "[databases]\n[pgbouncer]\nauth_type = cert\nclient_tls_sslmode = verify-full\n"
                + "client_tls_ca_file = /etc/pgbouncer/root.crt\nclient_tls_cert_file = /etc/pgbouncer/server.crt\n"
                + "client_tls_key_file = /etc/pgbouncer/server.key\n");
        assertThat(values(IniMapping.map(ini))).containsEntry("auth.type", "cert")
                .containsEntry("tls.client.mode", "require")
                .containsEntry("tls.client.ca-file", "/etc/pgbouncer/root.crt")
                .containsEntry("tls.client.cert-file", "/etc/pgbouncer/server.crt");
    }

    @Test
    void pgBouncersZeroMeansNoLimitWherePgferrysWouldMeanAtOnce() throws IOException {
        Path ini = dir.resolve("z.ini");
        Files.writeString(ini, """
                [databases]
                * = port=5999
                app =
                [pgbouncer]
                unix_socket_dir = /run/pg
                unix_socket_mode = 0700
                query_wait_timeout = 0
                server_idle_timeout = 0
                client_login_timeout = 0
                server_lifetime = 0
                client_idle_timeout = 0.5
                listen_addr = *
                admin_users = alice , bob
                auth_type = hba
                auth_hba_file = /etc/pgbouncer/hba.conf
                ignore_startup_parameters = extra_float_digits,options
                """);
        Map<String, String> v = values(IniMapping.map(ini));
        assertThat(v).containsEntry("pool.query-wait-timeout", IniMapping.NO_LIMIT)
                .containsEntry("pool.idle-timeout", IniMapping.NO_LIMIT)
                .containsEntry("client-login-timeout", IniMapping.NO_LIMIT)
                .containsEntry("pool.max-lifetime", "0s") // PgBouncer's 0: used once, as pgferry's
                .containsEntry("client-idle-timeout", "500ms")
                .containsEntry("unix-socket-mode", "0700").containsEntry("listen-host", "0.0.0.0")
                .containsEntry("admin.users", "alice,bob").containsEntry("auth.hba-file", "/etc/pgbouncer/hba.conf")
                // a database without host= is reached on unix_socket_dir's socket, as PgBouncer does
                .containsEntry("databases.\"app\".host", "/run/pg").containsEntry("databases.\"app\".port", "5432")
                .containsEntry("backend.host", "/run/pg").containsEntry("backend.port", "5999")
                .doesNotContainKey("backend.serve-unlisted");
    }
}
