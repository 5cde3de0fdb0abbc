package dev.pgferry.peer;

/**
 * Where a cancel key says which replica issued it. The first two bytes of the secret (4 bytes under protocol 3.0, 32
 * as pgferry issues them under 3.2) hold the issuer's peer id in their low 14 bits and a hop mark in the top bit:
 * clear as issued, set once a replica has forwarded the request. The process id cannot carry the id: in session mode
 * it is the backend's real pid. PgBouncer keeps its id in bytes 1-2 of its 8-byte key and a TTL in the last bits; one
 * hop is all pgferry needs, since the id names the replica directly.
 *
 * <pre>
 *   secret[0]: F . i i i i i i    F: forwarded, .: random, i: peer id bits 13..8
 *   secret[1]: i i i i i i i i    peer id bits 7..0
 * </pre>
 *
 * A 3.0 secret so keeps 17 random bits besides the process id (31 random bits in transaction mode).
 */
public final class PeerKey {
    /** The largest peer id: 14 bits. */
    public static final int MAX_PEER_ID = 0x3FFF;
    private static final int FORWARDED = 0x80;

    private PeerKey() {}

    /** Writes {@code peerId} into {@code secret}, hop mark clear; the other bits stay as drawn. */
    public static void stamp(byte[] secret, int peerId) {
        if (peerId < 1 || peerId > MAX_PEER_ID) {
            throw new IllegalArgumentException("peer id: " + peerId + " (expected: 1.." + MAX_PEER_ID + ")");
        }
        secret[0] = (byte) ((secret[0] & 0x40) | (peerId >>> 8));
        secret[1] = (byte) peerId;
    }

    /** The id of the replica that issued {@code secret}; 0 for a key too short to carry one (not one of pgferry's). */
    public static int peerId(byte[] secret) {
        if (secret.length < 2) {
            return 0;
        }
        return ((secret[0] & 0x3F) << 8) | (secret[1] & 0xFF);
    }

    /** Whether a replica has forwarded this request already. */
    public static boolean forwarded(byte[] secret) {
        return secret.length >= 2 && (secret[0] & FORWARDED) != 0;
    }

    /** A copy with the hop mark set, as it is forwarded. */
    public static byte[] markForwarded(byte[] secret) {
        byte[] copy = secret.clone();
        copy[0] |= (byte) FORWARDED;
        return copy;
    }

    /** The key as it was issued: a copy with the hop mark clear (the same array when it is clear already). */
    public static byte[] asIssued(byte[] secret) {
        if (!forwarded(secret)) {
            return secret;
        }
        byte[] copy = secret.clone();
        copy[0] &= (byte) ~FORWARDED;
        return copy;
    }
}
