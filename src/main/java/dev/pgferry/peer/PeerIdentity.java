package dev.pgferry.peer;

import dev.pgferry.config.PgferryConfig;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * This replica's peer id: pgferry.peer-id, or with pgferry.peers-dns and no id, its StatefulSet ordinal + 1 read from
 * its hostname ({@code pgferry-0} is peer 1: ids start at 1, as PgBouncer's, 0 meaning no peering).
 */
public final class PeerIdentity {
    private static final Pattern ORDINAL = Pattern.compile("^(.+)-(\\d+)$");

    private PeerIdentity() {}

    /**
     * The peer id, 0 without peering.
     *
     * @throws IllegalStateException for an id out of range, peers without an id, or peers-dns with neither an id nor
     *     a StatefulSet hostname
     */
    public static int of(PgferryConfig c, java.util.function.Supplier<String> hostnames) {
        if (c.peerId().isPresent()) {
            return checked(c.peerId().getAsInt(), "pgferry.peer-id");
        }
        if (c.peersDns().isPresent()) {
            String hostname = hostnames.get();
            Matcher m = ORDINAL.matcher(hostname == null ? "" : hostname);
            if (!m.matches()) {
                throw new IllegalStateException("pgferry.peers-dns is set but pgferry.peer-id is not, and the hostname \""
                        + hostname + "\" is no StatefulSet pod name (name-N) to take the id from");
            }
            return checked(Integer.parseInt(m.group(2)) + 1, "the StatefulSet ordinal + 1 of " + hostname);
        }
        if (!c.peers().isEmpty()) {
            throw new IllegalStateException("pgferry.peers is set but pgferry.peer-id is not: cancel keys would not say"
                    + " which replica issued them");
        }
        return 0;
    }

    /** The StatefulSet name of a pod hostname ({@code pgferry-2}: {@code pgferry}); the hostname itself otherwise. */
    public static String statefulSet(String hostname) {
        Matcher m = ORDINAL.matcher(hostname);
        return m.matches() ? m.group(1) : hostname;
    }

    /** This host's name as Kubernetes sets it (HOSTNAME is the pod name), else the JVM's. */
    public static String hostname() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "";
        }
    }

    /** {@code id}, or an IllegalStateException naming {@code what} when it is outside 1..16383. */
    public static int checked(int id, String what) {
        if (id < 1 || id > PeerKey.MAX_PEER_ID) {
            throw new IllegalStateException(what + " is " + id + ": a peer id must be 1.." + PeerKey.MAX_PEER_ID);
        }
        return id;
    }
}
