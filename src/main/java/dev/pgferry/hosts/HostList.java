package dev.pgferry.hosts;

import java.util.ArrayList;
import java.util.List;

/** Parses {@code pgferry.databases."x".hosts}: {@code h1:5432,h2,[::1]:5433}; a host without a port gets the default. */
public final class HostList {

    /** One {@code host:port} of a list. */
    public record Address(String host, int port) {
        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    private HostList() {
    }

    /**
     * The addresses of {@code value}, in order.
     *
     * @param key the configuration key, named in the error
     * @throws IllegalArgumentException naming {@code key} when the list holds no host or an entry is malformed
     */
    public static List<Address> parse(String key, String value, int defaultPort) {
        List<Address> addresses = new ArrayList<>();
        for (String raw : value.split(",")) {
            String entry = raw.strip();
            if (!entry.isEmpty()) {
                addresses.add(address(key, entry, defaultPort));
            }
        }
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException(key + ": the host list is empty (expected host:port,host:port)");
        }
        return List.copyOf(addresses);
    }

    private static Address address(String key, String entry, int defaultPort) {
        String host = entry;
        String port = null;
        if (entry.startsWith("[")) {
            int close = entry.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException(key + ": \"" + entry + "\" lacks the closing ]");
            }
            host = entry.substring(1, close);
            String rest = entry.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException(key + ": \"" + entry + "\" is not [host]:port");
                }
                port = rest.substring(1);
            }
        } else if (entry.indexOf(':') >= 0 && entry.indexOf(':') == entry.lastIndexOf(':')) {
            host = entry.substring(0, entry.indexOf(':'));
            port = entry.substring(entry.indexOf(':') + 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException(key + ": \"" + entry + "\" has no host");
        }
        return new Address(host, port == null ? defaultPort : port(key, entry, port));
    }

    private static int port(String key, String entry, String port) {
        try {
            int p = Integer.parseInt(port);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException ignored) {
            // reported below with the entry
        }
        throw new IllegalArgumentException(key + ": \"" + entry + "\" has no valid port (1-65535)");
    }
}
