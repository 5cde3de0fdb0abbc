package dev.pgferry.peer;

import java.security.SecureRandom;

/**
 * Draws the secrets of the BackendKeyData pgferry sends its clients: random, and with peering on, stamped with this
 * replica's id ({@link PeerKey}) so that any peer can tell where a CancelRequest belongs.
 */
public final class CancelKeys {
    private final SecureRandom random;
    /** This replica's peer id, 0 without peering. */
    private final int peerId;

    public CancelKeys(SecureRandom random, int peerId) {
        if (peerId != 0 && (peerId < 1 || peerId > PeerKey.MAX_PEER_ID)) {
            throw new IllegalArgumentException("pgferry.peer-id is " + peerId + ": it must be 1.." + PeerKey.MAX_PEER_ID);
        }
        this.random = random;
        this.peerId = peerId;
    }

    /** A fresh secret of {@code length} bytes: 4 for protocol 3.0, 32 for 3.2. */
    public byte[] issue(int length) {
        byte[] key = new byte[length];
        redraw(key);
        return key;
    }

    /** Draws {@code key} again in place, keeping this replica's stamp. */
    public void redraw(byte[] key) {
        random.nextBytes(key);
        if (peerId != 0) {
            PeerKey.stamp(key, peerId);
        }
    }

    /** The random source, shared with the registry's pid draws. */
    public SecureRandom random() {
        return random;
    }

    /** This replica's peer id, 0 without peering. */
    public int peerId() {
        return peerId;
    }
}
