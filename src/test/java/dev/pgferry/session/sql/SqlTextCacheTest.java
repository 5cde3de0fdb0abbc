package dev.pgferry.session.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The cache of what was found in SQL texts: exact keys, bounded size, the text used last kept. */
class SqlTextCacheTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int find(SqlTextCache<String> c, String text) {
        byte[] b = bytes(text);
        return c.find(b, b.length, SqlTextCache.hash(b, b.length));
    }

    private static void put(SqlTextCache<String> c, String text, String value) {
        byte[] b = bytes(text);
        c.put(b, b.length, SqlTextCache.hash(b, b.length), value);
    }

    @Test
    void aTextPutIsFoundWithItsValueAndNullIsAValue() {
        SqlTextCache<String> c = new SqlTextCache<>();
        assertThat(find(c, "select 1")).isNegative();
        put(c, "select 1", "one");
        put(c, "select 2", null);
        assertThat(c.valueAt(find(c, "select 1"))).isEqualTo("one");
        assertThat(find(c, "select 2")).isNotNegative();
        assertThat(c.valueAt(find(c, "select 2"))).isNull();
    }

    @Test
    void onlyTheSameBytesHit() {
        SqlTextCache<String> c = new SqlTextCache<>();
        put(c, "select 1", "one");
        assertThat(find(c, "select 2")).isNegative();
        assertThat(find(c, "select 1 ")).isNegative();
        assertThat(find(c, "select ")).isNegative();
        assertThat(find(c, "SELECT 1")).isNegative();
        // a prefix of a longer array in the caller's scratch: only [0, len) is the text
        byte[] scratch = bytes("select 1; and more");
        assertThat(c.find(scratch, 8, SqlTextCache.hash(scratch, 8))).isNotNegative();
    }

    @Test
    void aHashCollisionIsToldApartByTheBytes() {
        SqlTextCache<String> c = new SqlTextCache<>();
        byte[] a = bytes("aaaa");
        byte[] b = bytes("bbbb");
        int h = 42; // the same hash for both, as a collision would give
        c.put(a, a.length, h, "a");
        assertThat(c.find(b, b.length, h)).isNegative();
        c.put(b, b.length, h, "b");
        assertThat(c.valueAt(c.find(a, a.length, h))).isEqualTo("a");
        assertThat(c.valueAt(c.find(b, b.length, h))).isEqualTo("b");
    }

    @Test
    void itHoldsAtMostItsSlots() {
        SqlTextCache<String> c = new SqlTextCache<>();
        int n = SqlTextCache.SLOTS * 8;
        for (int k = 0; k < n; k++) {
            put(c, "select " + k, "v" + k);
        }
        int found = 0;
        for (int k = 0; k < n; k++) {
            int s = find(c, "select " + k);
            if (s >= 0) {
                found++;
                assertThat(c.valueAt(s)).isEqualTo("v" + k);
            }
        }
        assertThat(found).isPositive().isLessThanOrEqualTo(SqlTextCache.SLOTS);
    }

    @Test
    void aTextInUseStaysWhileOthersComeAndGo() {
        SqlTextCache<String> c = new SqlTextCache<>();
        put(c, "SELECT abalance FROM pgbench_accounts WHERE aid = $1;", "hot");
        for (int k = 0; k < SqlTextCache.SLOTS * 8; k++) {
            put(c, "select " + k, null);
            assertThat(find(c, "SELECT abalance FROM pgbench_accounts WHERE aid = $1;")).as("after %d", k)
                    .isNotNegative();
        }
    }

    @Test
    void aLongerTextReplacesAShorterOneInPlace() {
        SqlTextCache<String> c = new SqlTextCache<>();
        int h = 7;
        byte[] shortText = bytes("x");
        byte[] longText = bytes("y".repeat(300));
        c.put(shortText, 1, h, "s");
        c.put(bytes("z"), 1, h, "z"); // the set's other slot
        c.put(longText, longText.length, h, "l"); // replaces "s", the less recent
        assertThat(c.find(shortText, 1, h)).isNegative();
        assertThat(c.valueAt(c.find(longText, longText.length, h))).isEqualTo("l");
        c.put(shortText, 1, h, "s2"); // replaces "z"
        assertThat(c.valueAt(c.find(shortText, 1, h))).isEqualTo("s2");
        assertThat(c.find(bytes("z"), 1, h)).isNegative();
    }

    @Test
    void tooLongATextIsNotKept() {
        SqlTextCache<String> c = new SqlTextCache<>();
        byte[] big = new byte[SqlTextCache.MAX_TEXT + 1];
        assertThat(c.put(big, big.length, SqlTextCache.hash(big, big.length), "big")).isFalse();
        assertThat(c.find(big, big.length, SqlTextCache.hash(big, big.length))).isNegative();
        byte[] max = new byte[SqlTextCache.MAX_TEXT];
        assertThat(c.put(max, max.length, SqlTextCache.hash(max, max.length), "max")).isTrue();
    }

    @Test
    void theHashReadsEveryByte() {
        byte[] a = bytes("0123456789abcdefXYZ");
        for (int k = 0; k < a.length; k++) {
            byte[] b = a.clone();
            b[k] ^= 1;
            assertThat(SqlTextCache.hash(b, b.length)).as("byte %d", k).isNotEqualTo(SqlTextCache.hash(a, a.length));
        }
        assertThat(SqlTextCache.hash(a, 18)).isNotEqualTo(SqlTextCache.hash(a, 19));
    }
}
