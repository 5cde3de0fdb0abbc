package dev.pgferry.auth.hba;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The ADDRESS of a host line: {@code all}, or a network and mask of one family. A client matches when its address is
 * of the same family and equal to the network under the mask, as PostgreSQL's {@code check_ip}: an IPv4 client never
 * matches an IPv6 range and the reverse (Java reports an IPv4-mapped IPv6 peer as IPv4). Bits of the network outside
 * the mask are ignored, as PostgreSQL ignores them.
 */
public final class AddressRange {
    private static final AddressRange ALL = new AddressRange(null, null);

    private final byte[] network;
    private final byte[] mask;

    private AddressRange(byte[] network, byte[] mask) {
        this.network = network;
        this.mask = mask;
    }

    static AddressRange all() {
        return ALL;
    }

    /** {@code network} and {@code mask} of one length: 4 (IPv4) or 16 (IPv6) bytes. */
    static AddressRange of(byte[] network, byte[] mask) {
        if (network.length != mask.length) {
            throw new IllegalArgumentException("address and mask of different families");
        }
        return new AddressRange(network.clone(), mask.clone());
    }

    /** The mask of {@code bits} leading ones in {@code length} bytes. */
    static byte[] prefixMask(int length, int bits) {
        byte[] m = new byte[length];
        for (int i = 0; i < length; i++) {
            int b = Math.max(0, Math.min(8, bits - 8 * i));
            m[i] = (byte) (0xff << (8 - b));
        }
        return m;
    }

    public boolean isAll() {
        return network == null;
    }

    public boolean contains(InetAddress client) {
        if (network == null) {
            return true;
        }
        byte[] a = client.getAddress();
        if (a.length != network.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (((a[i] ^ network[i]) & mask[i]) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddressRange r && Arrays.equals(network, r.network) && Arrays.equals(mask, r.mask);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(network) + Arrays.hashCode(mask);
    }

    @Override
    public String toString() {
        return network == null ? "all" : HexFormat.of().formatHex(network) + "/" + HexFormat.of().formatHex(mask);
    }
}
