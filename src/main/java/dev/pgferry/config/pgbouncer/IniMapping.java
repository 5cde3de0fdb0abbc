package dev.pgferry.config.pgbouncer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A PgBouncer configuration turned into pgferry settings: each supported key becomes the {@code pgferry.*} key of the
 * same meaning, remembered with the ini line it came from; each key pgferry does not support is listed in
 * {@link Result#unsupported()}; a key whose absence of effect could admit a client PgBouncer refuses or change what a
 * client's statements see is refused with its file and line ({@link IniException}). Where PgBouncer's default differs
 * from pgferry's and matters (session pooling, 100 clients, md5, TLS towards the server when offered, 60 s login
 * timeout, 15 s connect timeout) the file's absence of a key means PgBouncer's default, as the file means it there.
 * The table is in docs/migrating-from-pgbouncer.md.
 */
public final class IniMapping {
    /** pgferry's value of one key, and the ini line it came from (null: PgBouncer's default for a key not in the file). */
    public record Setting(String key, String value, IniEntry origin) {}

    /** The settings by pgferry key (without the {@code pgferry.} prefix), the unsupported keys, the files read. */
    public record Result(Map<String, Setting> settings, List<String> unsupported, List<Path> files) {}

    /** A duration PgBouncer means by 0 for "no limit", where pgferry's 0 would mean "at once". */
    static final String NO_LIMIT = "3650d";

    /** Keys pgferry honours without a setting of its own: it already does what they ask for. */
    private static final Set<String> HONOURED = Set.of("ignore_startup_parameters", "track_extra_parameters");

    private final Map<String, Setting> settings = new LinkedHashMap<>();
    private final List<String> unsupported = new ArrayList<>();
    private final Map<String, IniEntry> main = new LinkedHashMap<>();

    private IniMapping() {}

    /** Reads {@code ini} (and its includes) and maps it; throws IniException on anything PgBouncer or pgferry refuses. */
    public static Result map(Path ini) {
        IniParser parsed = IniParser.read(ini);
        IniMapping m = new IniMapping();
        for (IniEntry e : parsed.entries()) {
            if (e.section().equals("pgbouncer")) {
                m.main.put(e.key(), e); // a later line wins, as PgBouncer's cf_set assigns again
            }
        }
        m.mainSection();
        boolean fallback = false;
        for (IniEntry e : parsed.entries()) {
            switch (e.section()) {
                case "databases" -> fallback |= m.database(e);
                case "users" -> m.user(e);
                case "peers" -> m.unsupported(e, "[peers]");
                default -> { }
            }
        }
        if (!fallback) {
            // PgBouncer serves only the names of [databases] when there is no "*" entry
            m.set("backend.serve-unlisted", "false", null);
        }
        return new Result(Map.copyOf(m.settings), List.copyOf(m.unsupported), parsed.files());
    }

    private void mainSection() {
        for (IniEntry e : main.values()) {
            String v = e.value();
            switch (e.key()) {
                case "listen_addr" -> listenAddr(e);
                case "listen_port" -> set("listen-port", Long.toString(nonNegative(e)), e);
                case "unix_socket_dir" -> {
                    if (v.startsWith("@")) {
                        throw new IniException("unix_socket_dir in the abstract namespace (" + v
                                + ") is not supported by pgferry", e);
                    }
                    if (!v.isEmpty()) {
                        set("unix-socket-dir", v, e);
                    }
                }
                case "unix_socket_mode" -> set("unix-socket-mode", "0" + Long.toOctalString(nonNegative(e)), e);
                case "auth_type" -> authType(e);
                case "auth_file" -> set("auth.users-file", v, e);
                case "auth_hba_file" -> { } // with auth_type = hba only, see authType
                case "auth_user" -> set("auth.user", v, e);
                case "auth_query" -> set("auth.query", v, e);
                case "pool_mode" -> set("pool.mode", poolMode(e, v), e);
                case "default_pool_size" -> set("pool.size", Long.toString(nonNegative(e)), e);
                case "min_pool_size" -> set("pool.min-idle", Long.toString(nonNegative(e)), e);
                case "reserve_pool_size" -> set("pool.reserve-size", Long.toString(nonNegative(e)), e);
                case "reserve_pool_timeout" -> set("pool.reserve-timeout", duration(e, false), e);
                case "max_client_conn" -> set("pool.max-client-connections", Long.toString(nonNegative(e)), e);
                case "max_db_connections" -> set("pool.max-db-connections", Long.toString(nonNegative(e)), e);
                case "max_user_connections" -> set("pool.max-user-connections", Long.toString(nonNegative(e)), e);
                case "server_lifetime" -> set("pool.max-lifetime", duration(e, false), e); // 0: used once, both
                case "server_idle_timeout" -> set("pool.idle-timeout", duration(e, true), e);
                case "server_check_delay" -> set("pool.check-delay", duration(e, false), e);
                case "server_connect_timeout" -> set("backend.connect-timeout", duration(e, true), e);
                case "query_wait_timeout" -> set("pool.query-wait-timeout", duration(e, true), e);
                case "client_idle_timeout" -> set("client-idle-timeout", duration(e, false), e);
                case "idle_transaction_timeout" -> set("pool.idle-transaction-timeout", duration(e, false), e);
                case "client_login_timeout" -> set("client-login-timeout", duration(e, true), e);
                case "max_packet_size" -> set("max-message-length",
                        Long.toString(Math.min(Integer.MAX_VALUE, nonNegative(e))), e);
                case "admin_users" -> {
                    String users = String.join(",", v.trim().split("\\s*,\\s*"));
                    if (!users.isEmpty()) {
                        set("admin.users", users, e);
                    }
                }
                case "max_prepared_statements" -> {
                    long n = nonNegative(e);
                    if (n > 0) {
                        set("prepared.max-per-backend", Long.toString(n), e);
                    } else {
                        unsupported(e, "max_prepared_statements = 0 (pgferry always tracks prepared statements)");
                    }
                }
                case "client_tls_sslmode" -> clientTlsMode(e);
                case "client_tls_cert_file" -> setIfNotEmpty("tls.client.cert-file", v, e);
                case "client_tls_key_file" -> setIfNotEmpty("tls.client.key-file", v, e);
                case "client_tls_ca_file" -> setIfNotEmpty("tls.client.ca-file", v, e);
                case "server_tls_sslmode" -> serverTlsMode(e);
                case "server_tls_ca_file" -> setIfNotEmpty("tls.server.ca-file", v, e);
                default -> {
                    if (!HONOURED.contains(e.key())) {
                        unsupported(e, e.key());
                    }
                }
            }
        }
        if (!main.containsKey("listen_addr")) {
            // PgBouncer listens on no TCP address then; pgferry always does, so only on loopback
            set("listen-host", "127.0.0.1", null);
        }
        defaultOf("pool_mode", "pool.mode", "session");
        defaultOf("max_client_conn", "pool.max-client-connections", "100");
        defaultOf("auth_type", "auth.type", "md5");
        defaultOf("server_tls_sslmode", "tls.server.mode", "prefer");
        defaultOf("client_login_timeout", "client-login-timeout", "60s");
        defaultOf("server_connect_timeout", "backend.connect-timeout", "15s");
    }

    private void defaultOf(String iniKey, String key, String value) {
        if (!main.containsKey(iniKey)) {
            set(key, value, null);
        }
    }

    private void listenAddr(IniEntry e) {
        String v = e.value().trim();
        if (v.isEmpty()) {
            set("listen-host", "127.0.0.1", e);
        } else if (v.contains(",")) {
            throw new IniException("listen_addr with several addresses (" + v
                    + ") cannot be honoured: pgferry listens on one address (use * for all)", e);
        } else {
            set("listen-host", v.equals("*") ? "0.0.0.0" : v, e);
        }
    }

    private void authType(IniEntry e) {
        String v = e.value().toLowerCase(Locale.ROOT);
        switch (v) {
            case "md5", "plain", "trust", "scram-sha-256", "cert" -> set("auth.type", v, e);
            case "hba" -> {
                IniEntry hba = main.get("auth_hba_file");
                if (hba == null || hba.value().isEmpty()) {
                    throw new IniException("auth_type = hba needs auth_hba_file", e);
                }
                set("auth.hba-file", hba.value(), hba);
                set("auth.type", "md5", e); // unused: every login takes its method from the HBA file
            }
            default -> throw new IniException("auth_type = " + e.value() + " cannot be honoured: pgferry"
                    + " authenticates clients with md5, scram-sha-256, plain, trust, cert or hba only", e);
        }
    }

    private static String poolMode(IniEntry e, String v) {
        String mode = v.toLowerCase(Locale.ROOT);
        if (mode.equals("session") || mode.equals("transaction")) {
            return mode;
        }
        if (mode.equals("statement")) {
            throw new IniException("pool_mode = statement cannot be honoured: pgferry pools by session or"
                    + " transaction, and would let through the multi-statement transactions statement mode refuses", e);
        }
        throw new IniException("invalid pool mode: " + v, e);
    }

    private void clientTlsMode(IniEntry e) {
        String v = e.value().toLowerCase(Locale.ROOT);
        switch (v) {
            case "disable", "allow", "prefer", "require" -> set("tls.client.mode", v, e);
            case "verify-ca", "verify-full" -> {
                // PgBouncer then wants a certificate of every client; pgferry asks for one per login (auth_type =
                // cert), so anything else would let clients in without one
                IniEntry auth = main.get("auth_type");
                if (auth == null || !auth.value().equalsIgnoreCase("cert")) {
                    throw new IniException("client_tls_sslmode = " + v + " cannot be honoured without auth_type = cert:"
                            + " pgferry asks for client certificates per login (auth_type = cert, or an HBA cert line"
                            + " or clientcert option with auth_type = hba and client_tls_sslmode = require)", e);
                }
                set("tls.client.mode", "require", e);
            }
            default -> throw new IniException("invalid value \"" + e.value() + "\" for parameter client_tls_sslmode", e);
        }
    }

    private void serverTlsMode(IniEntry e) {
        String v = e.value().toLowerCase(Locale.ROOT);
        switch (v) {
            case "disable", "prefer", "require", "verify-ca", "verify-full" -> set("tls.server.mode", v, e);
            case "allow" -> {
                set("tls.server.mode", "prefer", e);
                unsupported(e, "server_tls_sslmode = allow (pgferry uses prefer)");
            }
            default -> throw new IniException("invalid value \"" + e.value() + "\" for parameter server_tls_sslmode", e);
        }
    }

    /** One [databases] line; true for the "*" fallback entry. */
    private boolean database(IniEntry e) {
        String name = e.key();
        Map<String, String> cs = connectString(e);
        if (name.equals("pgferry") || name.equals("pgbouncer")) {
            throw new IniException("database name \"" + name + "\" is reserved", e);
        }
        if (name.equals("*")) {
            for (Map.Entry<String, String> kv : cs.entrySet()) {
                switch (kv.getKey()) {
                    case "host" -> set("backend.host", host(e, kv.getValue()), e);
                    case "port" -> set("backend.port", Integer.toString(port(e, kv.getValue())), e);
                    case "user", "password", "dbname", "connect_query", "client_encoding", "datestyle", "timezone" ->
                        throw new IniException("the * entry's " + kv.getKey() + " cannot be honoured: pgferry's"
                                + " default backend takes host and port only", e);
                    default -> unsupported(e, "* " + kv.getKey());
                }
            }
            if (!cs.containsKey("host")) {
                set("backend.host", unixDir(), e);
            }
            return true;
        }
        if (name.contains("\"")) {
            throw new IniException("database name " + name + " with a double quote is not supported", e);
        }
        String p = "databases.\"" + name + "\".";
        set(p + "host", cs.containsKey("host") ? host(e, cs.get("host")) : unixDir(), e);
        set(p + "port", cs.containsKey("port") ? Integer.toString(port(e, cs.get("port"))) : "5432", e);
        for (Map.Entry<String, String> kv : cs.entrySet()) {
            String v = kv.getValue();
            switch (kv.getKey()) {
                case "host", "port" -> { }
                case "dbname" -> set(p + "dbname", v, e);
                case "user" -> set(p + "user", v, e);
                case "password" -> {
                    if (v.startsWith("md5") || v.startsWith("SCRAM-SHA-256$")) {
                        throw new IniException("the forced user's password of database " + name + " is a hash:"
                                + " pgferry logs in a forced user with a plaintext password only", e);
                    }
                    set(p + "password", v, e);
                }
                case "pool_size" -> set(p + "pool-size", Integer.toString(CNumbers.atoi(v)), e);
                case "min_pool_size" -> set(p + "min-pool-size", Integer.toString(CNumbers.atoi(v)), e);
                case "reserve_pool", "reserve_pool_size" -> set(p + "reserve-size", Integer.toString(CNumbers.atoi(v)), e);
                case "max_db_connections" -> set(p + "max-db-connections", Integer.toString(CNumbers.atoi(v)), e);
                case "pool_mode" -> set(p + "pool-mode", poolMode(e, v), e);
                case "connect_query", "client_encoding", "datestyle", "timezone" -> throw new IniException(
                        "database " + name + "'s " + kv.getKey() + " cannot be honoured: pgferry would open its"
                                + " backends without it, and clients would see other session settings", e);
                case "auth_user", "auth_dbname", "auth_query", "query_wait_timeout", "max_db_client_connections",
                        "server_lifetime", "load_balance_hosts", "application_name" ->
                    unsupported(e, name + " " + kv.getKey());
                default -> throw new IniException("unrecognized connection parameter: " + kv.getKey(), e);
            }
        }
        return false;
    }

    /** One [users] line. */
    private void user(IniEntry e) {
        String name = e.key();
        if (name.contains("\"")) {
            throw new IniException("user name " + name + " with a double quote is not supported", e);
        }
        String p = "users.\"" + name + "\".";
        for (Map.Entry<String, String> kv : connectString(e).entrySet()) {
            String v = kv.getValue();
            switch (kv.getKey()) {
                case "pool_mode" -> set(p + "pool-mode", poolMode(e, v), e);
                case "pool_size" -> set(p + "pool-size", Integer.toString(CNumbers.atoi(v)), e);
                case "reserve_pool_size" -> set(p + "reserve-size", Integer.toString(CNumbers.atoi(v)), e);
                case "max_user_connections" -> set(p + "max-user-connections", Integer.toString(CNumbers.atoi(v)), e);
                case "transaction_timeout", "idle_transaction_timeout", "query_timeout", "query_wait_timeout",
                        "client_idle_timeout", "max_user_client_connections" -> unsupported(e, name + " " + kv.getKey());
                default -> throw new IniException("unrecognized user parameter: " + kv.getKey(), e);
            }
        }
    }

    private static Map<String, String> connectString(IniEntry e) {
        try {
            return ConnectString.parse(e.value());
        } catch (IllegalArgumentException x) {
            throw new IniException(x.getMessage(), e);
        }
    }

    private static String host(IniEntry e, String host) {
        if (host.contains(",")) {
            throw new IniException("host list " + host + " cannot be honoured: pgferry connects to one host", e);
        }
        if (host.startsWith("@")) {
            throw new IniException("host " + host + " in the abstract socket namespace is not supported", e);
        }
        return host;
    }

    private static int port(IniEntry e, String port) {
        int n = CNumbers.atoi(port);
        if (n <= 0) {
            throw new IniException("invalid port: " + port, e);
        }
        return n;
    }

    /** Where PgBouncer connects a database without host=: the Unix socket in unix_socket_dir, /tmp by default. */
    private String unixDir() {
        IniEntry dir = main.get("unix_socket_dir");
        return dir == null || dir.value().isEmpty() ? "/tmp" : dir.value();
    }

    private static long nonNegative(IniEntry e) {
        long n;
        try {
            n = CNumbers.strtol(e.value());
        } catch (NumberFormatException x) {
            throw new IniException("invalid value \"" + e.value() + "\" for parameter " + e.key(), e);
        }
        if (n < 0) {
            throw new IniException("invalid value \"" + e.value() + "\" for parameter " + e.key(), e);
        }
        return n;
    }

    /** PgBouncer's seconds as a pgferry duration; {@code zeroIsNoLimit} where PgBouncer's 0 disables the timeout. */
    private static String duration(IniEntry e, boolean zeroIsNoLimit) {
        Duration d;
        try {
            d = CNumbers.seconds(e.value());
        } catch (NumberFormatException x) {
            throw new IniException("invalid value \"" + e.value() + "\" for parameter " + e.key()
                    + " (seconds, without a unit)", e);
        }
        if (d.isZero() && zeroIsNoLimit) {
            return NO_LIMIT;
        }
        long ms = d.toMillis(); // PgBouncer keeps microseconds; pgferry's timers work in milliseconds
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    private void setIfNotEmpty(String key, String value, IniEntry e) {
        if (!value.isEmpty()) {
            set(key, value, e);
        }
    }

    private void set(String key, String value, IniEntry e) {
        settings.put(key, new Setting(key, value, e));
    }

    private void unsupported(IniEntry e, String what) {
        unsupported.add(what + " (" + e.where() + ")");
    }
}
