package dev.pgferry.session;

import dev.pgferry.backend.ParameterSignature;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A client's session parameters as it believes them to be: the values that differ from what a fresh
 * backend of its pool reports ({@code overrides}), and its startup values, which are its session defaults
 * ({@code RESET} returns to them, as on a real server). Keys are canonical: the server's spelling for
 * reported parameters ({@code TimeZone}), lower case for the rest.
 */
public final class SessionParameters {
    /**
     * Reported parameters no session can SET (PGC_INTERNAL, or fixed at login): they differ between backends only
     * when they come from different servers (a {@code hosts} list: {@code in_hot_standby} on a standby, off on the
     * primary), and a SET of them fails ({@code 55P02 parameter "in_hot_standby" cannot be changed}).
     */
    static final Set<String> SERVER_OWNED = Set.of("in_hot_standby", "server_version", "server_encoding",
            "integer_datetimes", "is_superuser");
    private final Map<String, String> serverDefaults;
    /** Shared with every client that logged in with the same values until this one changes something. */
    private Map<String, String> overrides;
    private boolean ownOverrides;
    private final Map<String, String> startup;

    /** The pool's interned sets: shared by its clients, so that equal parameter sets have one signature. */
    private final ParameterSignatures signatures;
    private ParameterSignature signature;

    /** {@code serverDefaults}: the ParameterStatus set of a fresh backend, shared by all clients of a pool. */
    public SessionParameters(Map<String, String> serverDefaults, Map<String, String> startupValues) {
        this(serverDefaults, startupValues, new ParameterSignatures());
    }

    /** {@code signatures}: shared by the clients of one pool, so equal parameter sets have one signature. */
    public SessionParameters(Map<String, String> serverDefaults, Map<String, String> startupValues,
            ParameterSignatures signatures) {
        this.signatures = signatures;
        this.serverDefaults = serverDefaults;
        Map<String, String> s = new HashMap<>(startupValues.size() * 2);
        startupValues.forEach((k, v) -> s.put(canonical(k), v));
        Map<String, String> o = new HashMap<>(s);
        o.entrySet().removeIf(e -> e.getValue().equals(serverDefaults.get(e.getKey())));
        ParameterSignatures.Startup shared = signatures.startup(s, o);
        this.startup = shared.startup();
        this.overrides = shared.overrides();
    }

    private Map<String, String> ownOverrides() {
        if (!ownOverrides) {
            overrides = new HashMap<>(overrides);
            ownOverrides = true;
        }
        return overrides;
    }

    /** The server's spelling of a reported parameter name, else the name in lower case. */
    public String canonical(String name) {
        if (serverDefaults.containsKey(name)) {
            return name;
        }
        for (String k : serverDefaults.keySet()) {
            if (k.equalsIgnoreCase(name)) {
                return k;
            }
        }
        return name.toLowerCase(Locale.ROOT);
    }

    /**
     * An object that stands for this exact set of parameters: a backend brought to one client's parameters
     * (and untouched since) needs nothing for any client with the same signature — the per-lease check is
     * then one reference comparison.
     */
    public ParameterSignature signature() {
        ParameterSignature sig = signature;
        if (sig == null) {
            sig = signatures.signature(overrides);
            signature = sig;
        }
        return sig;
    }

    public boolean isReported(String canonicalName) {
        return serverDefaults.containsKey(canonicalName);
    }

    /** The overrides; read-only (it may be shared with other clients). */
    public Map<String, String> overrides() {
        return java.util.Collections.unmodifiableMap(overrides);
    }

    public Map<String, String> startup() {
        return startup;
    }

    public Map<String, String> serverDefaults() {
        return serverDefaults;
    }

    /** What the client believes the value of a reported parameter is. */
    public String reportedValue(String name) {
        String v = overrides.get(name);
        return v != null ? v : serverDefaults.get(name);
    }

    /** The server reported a new value while this client held the backend: it is now the client's. */
    public void reportedChanged(String name, String value) {
        if (value.equals(serverDefaults.get(name))) {
            if (overrides.containsKey(name)) {
                signature = null;
                ownOverrides().remove(name);
            }
        } else if (!value.equals(overrides.get(name))) {
            signature = null;
            ownOverrides().put(name, value);
        }
    }

    /** An unreported parameter's value as read back from the server (null: not set / default). */
    public void unreportedChanged(String name, String value) {
        signature = null;
        if (value == null) {
            ownOverrides().remove(name);
        } else {
            ownOverrides().put(name, value);
        }
    }

    /** After RESET ALL / DISCARD ALL the server is at its defaults; the client's defaults are its startup values. */
    public void resetAll() {
        resetAll(Set.of());
    }

    /**
     * As {@link #resetAll()}, except for the parameters SET after the RESET ALL ({@code setSince}, any spelling):
     * they keep what the client has now (a reported one as the server reported it, an unreported one until read
     * back).
     */
    public void resetAll(Set<String> setSince) {
        signature = null;
        Map<String, String> o = ownOverrides();
        Map<String, String> kept = new HashMap<>();
        for (String n : setSince) {
            String k = canonical(n);
            if (o.containsKey(k)) {
                kept.put(k, o.get(k));
            }
        }
        o.clear();
        startup.forEach((k, v) -> {
            if (!v.equals(serverDefaults.get(k))) {
                o.put(k, v);
            }
        });
        for (String n : setSince) {
            o.remove(canonical(n));
        }
        o.putAll(kept);
    }

    /** Whether {@link #restoreSql} has anything to do; allocates nothing (this runs on every lease). */
    public boolean needsRestore(Map<String, String> reported, Map<String, String> unreported) {
        if (overrides.size() + unreported.size() == 0 && reported.equals(serverDefaults)) {
            return false;
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String k = e.getKey();
            String have = serverDefaults.containsKey(k) ? reported.get(k) : unreported.get(k);
            if (!e.getValue().equals(have)) {
                return true;
            }
        }
        for (String k : unreported.keySet()) {
            if (!overrides.containsKey(k)) {
                return true;
            }
        }
        for (Map.Entry<String, String> e : reported.entrySet()) {
            String dflt = serverDefaults.get(e.getKey());
            if (dflt != null && !overrides.containsKey(e.getKey()) && !dflt.equals(e.getValue())
                    && !SERVER_OWNED.contains(e.getKey())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The SQL that brings a backend ({@code reported}: its ParameterStatus values; {@code unreported}: what
     * pgferry set there that the server does not report) to this client's parameters, or null if it is there.
     * {@code set} receives the names it sets, {@code reset} those it resets.
     */
    public String restoreSql(Map<String, String> reported, Map<String, String> unreported, List<String> set,
            List<String> reset) {
        StringBuilder resets = null;
        StringBuilder sets = null;
        for (Map.Entry<String, String> e : reported.entrySet()) {
            String k = e.getKey();
            String want = overrides.get(k);
            String dflt = serverDefaults.get(k);
            if (want == null && dflt != null && !dflt.equals(e.getValue()) && !SERVER_OWNED.contains(k)) {
                // a previous client changed it; the default is what a fresh backend reports
                sets = appendSet(sets, k, dflt);
                set.add(k);
            }
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String k = e.getKey();
            String have = serverDefaults.containsKey(k) ? reported.get(k) : unreported.get(k);
            if (!e.getValue().equals(have)) {
                sets = appendSet(sets, k, e.getValue());
                set.add(k);
            }
        }
        for (String k : unreported.keySet()) {
            if (!overrides.containsKey(k)) {
                resets = (resets == null ? new StringBuilder() : resets).append("RESET ").append(ident(k)).append(';');
                reset.add(k);
            }
        }
        if (sets == null && resets == null) {
            return null;
        }
        StringBuilder sql = resets == null ? new StringBuilder() : resets;
        if (sets != null) {
            sql.append("SELECT ").append(sets);
        }
        return sql.toString();
    }

    /**
     * The SQL run after a transaction that changed parameters the server does not report, or reset some:
     * startup values are put back where the client reset them, then the touched values are read back.
     * Returns null if nothing is needed; {@code readBack} receives the names whose values the single
     * result row carries, after one column per set.
     */
    public String fixupSql(StatementInspector.Findings f, List<String> setNames, List<String> readBack) {
        StringBuilder cols = appendStartupAfterResets(null, f, setNames);
        for (String raw : f.touched) {
            String k = canonical(raw);
            if (!isReported(k) && !readBack.contains(k)) {
                cols = (cols == null ? new StringBuilder() : cols.append(','))
                        .append("pg_catalog.current_setting(").append(literal(k)).append(",true)");
                readBack.add(k);
            }
        }
        return cols == null ? null : "SELECT " + cols;
    }

    /**
     * The SQL that sets every startup parameter {@code f} RESET (all of them after a RESET ALL, but those SET after
     * it) back to the client's startup value, inside the transaction it runs in; null if there is none.
     */
    public String startupAfterResetsSql(StatementInspector.Findings f, List<String> setNames) {
        StringBuilder cols = appendStartupAfterResets(null, f, setNames);
        return cols == null ? null : "SELECT " + cols;
    }

    private StringBuilder appendStartupAfterResets(StringBuilder cols, StatementInspector.Findings f,
            List<String> setNames) {
        if (f.resetAll) {
            Set<String> keep = new HashSet<>();
            f.setAfterResetAll.forEach(n -> keep.add(canonical(n)));
            for (Map.Entry<String, String> e : startup.entrySet()) {
                if (!keep.contains(e.getKey())) {
                    cols = appendSet(cols, e.getKey(), e.getValue());
                    setNames.add(e.getKey());
                }
            }
        }
        for (String raw : f.resetNames) {
            String k = canonical(raw);
            String v = startup.get(k);
            if (v != null && !f.resetAll) {
                cols = appendSet(cols, k, v);
                setNames.add(k);
            }
        }
        return cols;
    }

    private static StringBuilder appendSet(StringBuilder sb, String name, String value) {
        sb = sb == null ? new StringBuilder() : sb.append(',');
        return sb.append("pg_catalog.set_config(").append(literal(name)).append(',').append(literal(value))
                .append(",false)");
    }

    /** A SQL string literal that reads the same whatever standard_conforming_strings is. */
    public static String literal(String s) {
        boolean backslash = s.indexOf('\\') >= 0;
        StringBuilder sb = new StringBuilder(s.length() + 3);
        if (backslash) {
            sb.append('E');
        }
        sb.append('\'');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'') {
                sb.append("''");
            } else if (c == '\\') {
                sb.append("\\\\");
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    public static String ident(String s) {
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    /** Startup parameters that are not session parameters. */
    private static final Set<String> NOT_PARAMETERS = Set.of("user", "database", "options", "replication");

    /**
     * The session parameters a StartupMessage sets, as PostgreSQL's process_startup_options reads them: the -c
     * settings of {@code options} first, then the packet's own parameters, which win over them (pgjdbc sends TimeZone
     * itself, -c TimeZone in options loses).
     *
     * @throws IllegalArgumentException {@code options} cannot be parsed
     */
    static Map<String, String> ofStartup(Map<String, String> packet) {
        Map<String, String> params = new java.util.LinkedHashMap<>();
        String options = packet.get("options");
        if (options != null && !options.isBlank()) {
            params.putAll(parseOptions(options));
        }
        packet.forEach((k, v) -> {
            if (!NOT_PARAMETERS.contains(k)) {
                params.put(k, v);
            }
        });
        return params;
    }

    /** Parses the {@code options} startup parameter: {@code -c name=value} and {@code --name=value}, backslash escapes. */
    public static Map<String, String> parseOptions(String options) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = null;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (c == '\\' && i + 1 < options.length()) {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(options.charAt(++i));
            } else if (Character.isWhitespace(c)) {
                if (cur != null) {
                    words.add(cur.toString());
                    cur = null;
                }
            } else {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(c);
            }
        }
        if (cur != null) {
            words.add(cur.toString());
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String assignment = null;
            if (w.equals("-c") && i + 1 < words.size()) {
                assignment = words.get(++i);
            } else if (w.startsWith("-c")) {
                assignment = w.substring(2);
            } else if (w.startsWith("--")) {
                assignment = w.substring(2);
            }
            if (assignment == null) {
                throw new IllegalArgumentException("invalid command-line argument for server process: " + w);
            }
            int eq = assignment.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("invalid command-line argument for server process: " + w);
            }
            out.put(assignment.substring(0, eq).replace('-', '_'), assignment.substring(eq + 1));
        }
        return out;
    }
}
