package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.pool.FreshBackendListener;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the sessions of one pool know about its server's parameters: the ParameterStatus set of a fresh backend
 * (a login is welcomed with it), the startup values the server accepted, and the interned parameter sets of the
 * pool's clients. Read and written from every event loop.
 */
public final class PoolParameters implements FreshBackendListener {
    /** Bound on the accepted startup values: unique application names must not grow it forever. */
    private static final int MAX_CHECKED = 10_000;

    private final ParameterSignatures signatures = new ParameterSignatures();
    private volatile Map<String, String> serverParams;
    /** Set by KILL and RECONNECT: the next login learns the server's parameters from a new backend again. */
    private volatile boolean stale;
    /** Startup (name NUL value) pairs the server accepted, with its spelling of reported values. */
    private final ConcurrentHashMap<String, String> checkedStartup = new ConcurrentHashMap<>();

    /**
     * Learns the server's parameters from {@code c} unless they are known and fresh; stale ones only once the pool
     * is resumed, not from a backend that began opening before the KILL.
     */
    @Override
    public void opened(ServerConnection c, boolean paused) {
        learn(c.reported, paused);
    }

    void learn(Map<String, String> reported, boolean paused) {
        if (serverParams == null || (stale && !paused)) {
            serverParams = Map.copyOf(reported);
            stale = false;
        }
    }

    /** PgBouncer resets its welcome message too: a new server may report other values. */
    @Override
    public void serverChanged() {
        stale = true;
    }

    /** The parameters a fresh backend reports, learned from the first one; null until then. */
    public Map<String, String> serverParams() {
        return serverParams;
    }

    /**
     * Whether a login can be welcomed with {@link #serverParams} without a backend: they are known, and no KILL or
     * RECONNECT has made them stale since (PgBouncer frees the pool's welcome message then, so that its next login
     * waits for a server to report them).
     */
    public boolean known() {
        return serverParams != null && !stale;
    }

    /** Whether every startup parameter was accepted by the server before. */
    public boolean startupChecked(Map<String, String> params) {
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (!checkedStartup.containsKey(e.getKey() + '\0' + e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** Records that the server accepted {@code name = value} and reports it as {@code normalized}. */
    public void startupChecked(String name, String value, String normalized) {
        if (checkedStartup.size() > MAX_CHECKED) {
            checkedStartup.clear();
        }
        checkedStartup.put(name + '\0' + value, normalized);
    }

    /** The startup parameters with the server's spelling of the values it reports. */
    public Map<String, String> normalizedStartup(Map<String, String> params) {
        if (params.isEmpty()) {
            return params;
        }
        Map<String, String> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, checkedStartup.getOrDefault(k + '\0' + v, v)));
        return out;
    }

    /** The interned parameter sets of the pool's clients. */
    public ParameterSignatures signatures() {
        return signatures;
    }
}
