package dev.pgferry.session;

import dev.pgferry.backend.ParameterSignature;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The interned parameter sets of one pool's clients. Idle clients are most of a pooler's clients and most log in
 * alike (one application, one driver): their startup and override maps are shared, one immutable copy per distinct
 * set of values, and each distinct override set has one {@link ParameterSignature}, so that the per-lease check
 * whether a backend needs a restore is one reference comparison. Shared by the threads of every event loop.
 */
public final class ParameterSignatures {
    /** Bound on each map: unique values (an application name per client) must not grow it forever. */
    static final int MAX_ENTRIES = 10_000;

    private final ConcurrentHashMap<Map<String, String>, Startup> startups = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Map<String, String>, ParameterSignature> signatures = new ConcurrentHashMap<>();

    /** A client's startup values and the overrides they make, as shared by every client with the same startup. */
    record Startup(Map<String, String> startup, Map<String, String> overrides) {}

    private static final class Signature implements ParameterSignature {}

    /** The shared copy of {@code startup} (canonical names) and {@code overrides}, computed on first use. */
    Startup startup(Map<String, String> startup, Map<String, String> overrides) {
        Startup s = startups.get(startup);
        if (s != null) {
            return s;
        }
        if (startups.size() > MAX_ENTRIES) {
            startups.clear(); // a client that misses only loses the sharing
        }
        return startups.computeIfAbsent(Map.copyOf(startup), k -> new Startup(k, Map.copyOf(overrides)));
    }

    /** The signature of this exact override set. */
    ParameterSignature signature(Map<String, String> overrides) {
        ParameterSignature sig = signatures.get(overrides);
        if (sig != null) {
            return sig;
        }
        if (signatures.size() > MAX_ENTRIES) {
            signatures.clear(); // a stale signature only costs a full comparison
        }
        return signatures.computeIfAbsent(Map.copyOf(overrides), k -> new Signature());
    }
}
