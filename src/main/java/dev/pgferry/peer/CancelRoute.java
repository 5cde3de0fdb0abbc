package dev.pgferry.peer;

/**
 * Where a CancelRequest goes, decided from its key alone (see {@link PeerKey}): here, to the peer that issued it, or
 * nowhere. A request is forwarded at most once: the replica that forwards it sets the key's hop mark, and a marked key
 * that is not the receiver's own is dropped, so two replicas that disagree about who is who cannot bounce it.
 */
public enum CancelRoute {
    /** Issued here, or no peering: the local registry looks the key up. */
    LOCAL,
    /** Issued by a known peer and not forwarded yet: forward it, marked. */
    FORWARD,
    /** Forwarded once already and still not at home: dropped. */
    DROP_LOOPED,
    /** Issued by a peer this replica does not know (gone, or never configured): dropped and logged. */
    DROP_UNKNOWN_PEER;

    /**
     * The route of a request with {@code secret} at replica {@code self} (0: no peering), {@code known} telling
     * whether a peer id has an address.
     */
    public static CancelRoute of(int self, byte[] secret, java.util.function.IntPredicate known) {
        if (self == 0) {
            return LOCAL;
        }
        int issuer = PeerKey.peerId(secret);
        if (issuer == self) {
            return LOCAL;
        }
        if (PeerKey.forwarded(secret)) {
            return DROP_LOOPED;
        }
        return known.test(issuer) ? FORWARD : DROP_UNKNOWN_PEER;
    }
}
