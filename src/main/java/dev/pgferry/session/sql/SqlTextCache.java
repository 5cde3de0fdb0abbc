package dev.pgferry.session.sql;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * What was found in recently seen SQL texts, by their exact bytes: a driver sends the same few texts in every Parse
 * (pgbench {@code -M extended}, every ORM), and a hit spares a lexer pass. Bounded: {@value #SLOTS} texts of at most
 * {@value #MAX_TEXT} bytes each, two per set, the one used less recently replaced. Nothing is allocated on a hit,
 * nor on a miss once the slots' arrays have grown to the texts' lengths (a new text is copied into the old one's).
 * A hit is a hash match confirmed by comparing every byte, so a value is only ever given back for the same text.
 * Not thread-safe: one per thread (an event loop), so no lock is taken.
 *
 * @param <V> what was found; null is a value (nothing found) like any other
 */
public final class SqlTextCache<V> {
    public static final int SLOTS = 256;
    public static final int MAX_TEXT = 2048;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final byte[][] texts = new byte[SLOTS][];
    private final int[] lengths = new int[SLOTS];
    private final int[] hashes = new int[SLOTS];
    private final Object[] values = new Object[SLOTS];
    /** Per set of two slots: which of them (0 or 1) was hit or filled last; the other one is replaced first. */
    private final byte[] recent = new byte[SLOTS / 2];

    /** A hash of {@code text[0, len)}, read eight bytes at a time. */
    public static int hash(byte[] text, int len) {
        long h = len;
        int k = 0;
        for (; k + 8 <= len; k += 8) {
            h = (h ^ (long) LONGS.get(text, k)) * 0x9E3779B97F4A7C15L;
        }
        for (; k < len; k++) {
            h = (h ^ text[k]) * 0x9E3779B97F4A7C15L;
        }
        h ^= h >>> 29;
        return (int) (h ^ (h >>> 32));
    }

    /** The slot holding {@code text[0, len)} with hash {@code hash}, or -1. */
    public int find(byte[] text, int len, int hash) {
        int set = set(hash);
        for (int way = 0; way < 2; way++) {
            int s = set * 2 + way;
            byte[] t = texts[s];
            if (t != null && hashes[s] == hash && lengths[s] == len && Arrays.equals(t, 0, len, text, 0, len)) {
                recent[set] = (byte) way;
                return s;
            }
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    public V valueAt(int slot) {
        return (V) values[slot];
    }

    /** Keeps {@code value} for {@code text[0, len)} (copied) if the text is short enough; returns whether it did. */
    public boolean put(byte[] text, int len, int hash, V value) {
        if (len > MAX_TEXT) {
            return false;
        }
        int set = set(hash);
        int way = texts[set * 2] == null ? 0 : texts[set * 2 + 1] == null ? 1 : 1 - recent[set];
        int s = set * 2 + way;
        byte[] t = texts[s];
        if (t == null || t.length < len) {
            t = new byte[Math.max(len, 64)];
            texts[s] = t;
        }
        System.arraycopy(text, 0, t, 0, len);
        lengths[s] = len;
        hashes[s] = hash;
        values[s] = value;
        recent[set] = (byte) way;
        return true;
    }

    private static int set(int hash) {
        return (hash ^ (hash >>> 16)) & (SLOTS / 2 - 1);
    }
}
