package dev.pgferry.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The peer id inside pgferry's cancel keys: 4-byte (protocol 3.0) and 32-byte (3.2) secrets alike. */
class PeerKeyTest {
    private final SecureRandom random = new SecureRandom();

    @ParameterizedTest
    @ValueSource(ints = {4, 32})
    void everyPeerIdSurvivesTheRoundTripWithTheHopMarkClear(int length) {
        for (int id = 1; id <= PeerKey.MAX_PEER_ID; id++) {
            byte[] key = new CancelKeys(random, id).issue(length);
            assertThat(key).hasSize(length);
            assertThat(PeerKey.peerId(key)).isEqualTo(id);
            assertThat(PeerKey.forwarded(key)).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 32})
    void theHopMarkKeepsThePeerIdAndComesOffToTheIssuedKey(int length) {
        byte[] key = new CancelKeys(random, 16383).issue(length);
        byte[] marked = PeerKey.markForwarded(key);
        assertThat(PeerKey.forwarded(marked)).isTrue();
        assertThat(PeerKey.peerId(marked)).isEqualTo(16383);
        assertThat(PeerKey.forwarded(key)).as("the original is not touched").isFalse();
        assertThat(PeerKey.asIssued(marked)).isEqualTo(key);
        assertThat(PeerKey.asIssued(key)).isSameAs(key);
    }

    @Test
    void keysOfDifferentPeersNeverCollideAndKeepRandomBits() {
        Set<String> seen = new HashSet<>();
        int[] ids = {1, 2, 3, 255, 256, 8191, 16383};
        for (int id : ids) {
            CancelKeys keys = new CancelKeys(random, id);
            Set<Integer> firstByteRandomBit = new HashSet<>();
            for (int i = 0; i < 2000; i++) {
                byte[] k = keys.issue(4);
                firstByteRandomBit.add(k[0] & 0x40);
                // the same bytes issued by two peers would decode to one id: the peer id part decides
                assertThat(PeerKey.peerId(k)).isEqualTo(id);
                seen.add(id + ":" + Arrays.toString(k));
            }
            assertThat(firstByteRandomBit).as("bit 6 of the first byte stays random").containsExactlyInAnyOrder(0, 0x40);
        }
        Set<String> secrets = new HashSet<>();
        for (String s : seen) {
            secrets.add(s.substring(s.indexOf(':') + 1));
        }
        assertThat(secrets).as("no secret issued by two peers").hasSameSizeAs(seen);
    }

    @Test
    void redrawKeepsTheStamp() {
        CancelKeys keys = new CancelKeys(random, 77);
        byte[] k = keys.issue(32);
        for (int i = 0; i < 100; i++) {
            keys.redraw(k);
            assertThat(PeerKey.peerId(k)).isEqualTo(77);
            assertThat(PeerKey.forwarded(k)).isFalse();
        }
    }

    @Test
    void withoutPeeringKeysAreAllRandom() {
        CancelKeys keys = new CancelKeys(random, 0);
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            ids.add(PeerKey.peerId(keys.issue(4)));
        }
        assertThat(ids.size()).isGreaterThan(400);
    }

    @Test
    void peerIdsOutOfRangeAreRefused() {
        assertThatThrownBy(() -> new CancelKeys(random, 16384)).hasMessageContaining("1..16383");
        assertThatThrownBy(() -> new CancelKeys(random, -1)).hasMessageContaining("1..16383");
        assertThatThrownBy(() -> PeerKey.stamp(new byte[4], 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void routesAreDecidedByTheKeyAndAForwardedKeyIsNeverForwardedAgain() {
        byte[] ofTwo = new CancelKeys(random, 2).issue(4);
        assertThat(CancelRoute.of(0, ofTwo, id -> true)).isEqualTo(CancelRoute.LOCAL);
        assertThat(CancelRoute.of(2, ofTwo, id -> true)).isEqualTo(CancelRoute.LOCAL);
        assertThat(CancelRoute.of(2, PeerKey.markForwarded(ofTwo), id -> true)).isEqualTo(CancelRoute.LOCAL);
        assertThat(CancelRoute.of(1, ofTwo, id -> id == 2)).isEqualTo(CancelRoute.FORWARD);
        assertThat(CancelRoute.of(1, ofTwo, id -> false)).isEqualTo(CancelRoute.DROP_UNKNOWN_PEER);
        assertThat(CancelRoute.of(3, PeerKey.markForwarded(ofTwo), id -> true)).isEqualTo(CancelRoute.DROP_LOOPED);
    }

    @Test
    void withoutPeeringEveryKeyIsLookedUpAsItCame() {
        byte[] key = {(byte) 0xFF, 1, 2, 3};
        byte[][] seen = new byte[1][];
        assertThat(PeerCancels.NONE.route(null, 7, key, () -> seen[0] = key)).isSameAs(key);
        assertThat(seen[0]).as("nothing done here").isNull();
    }
}
