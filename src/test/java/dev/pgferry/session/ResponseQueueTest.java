package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The ring of owed responses keeps order across growth and wrap-around. */
class ResponseQueueTest {

    @Test
    void keepsOrderAcrossGrowthAndWrapAround() {
        ResponseQueue q = new ResponseQueue();
        int expected = 0;
        int next = 0;
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < round % 37 + 1; i++) {
                q.add((byte) (next % 12 + 1), "r" + next);
                next++;
            }
            for (int i = 0; i < round % 23 && !q.isEmpty(); i++) {
                assertThat(q.peekRef()).isEqualTo("r" + expected);
                assertThat(q.poll()).isEqualTo((byte) (expected % 12 + 1));
                expected++;
            }
        }
        while (!q.isEmpty()) {
            assertThat(q.peekRef()).isEqualTo("r" + expected);
            q.poll();
            expected++;
        }
        assertThat(expected).isEqualTo(next);
        assertThat(q.poll()).isZero();
        assertThat(q.peek()).isZero();
    }

    @Test
    void entriesAreReadableByPositionFromTheHeadAcrossWrapAround() {
        ResponseQueue q = new ResponseQueue();
        for (int i = 0; i < 3; i++) {
            q.add(ResponseQueue.BIND, null);
        }
        q.poll();
        q.poll();
        // the ring of 4 now wraps: head at 2, and growth to 8 happens on the fifth entry
        for (int i = 0; i < 6; i++) {
            q.add((byte) (i + 1), "r" + i);
        }
        assertThat(q.size()).isEqualTo(7);
        assertThat(q.kindAt(0)).isEqualTo(ResponseQueue.BIND);
        for (int i = 0; i < 6; i++) {
            assertThat(q.kindAt(i + 1)).isEqualTo((byte) (i + 1));
            assertThat(q.refAt(i + 1)).isEqualTo("r" + i);
        }
        q.poll();
        assertThat(q.kindAt(0)).isEqualTo((byte) 1);
        assertThat(q.refAt(0)).isEqualTo(q.peekRef()).isEqualTo("r0");
    }

    @Test
    void serverNamesDependOnTextAndTypesOnly() {
        byte[] a = "select $1\0\0\1\0\0\0\27".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] b = "select $1\0\0\1\0\0\0\31".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        PreparedStatement s1 = new PreparedStatement("S_1", a, null);
        PreparedStatement s2 = new PreparedStatement("other", a.clone(), null);
        PreparedStatement s3 = new PreparedStatement("S_1", b, null);
        assertThat(s1.serverName).isEqualTo(s2.serverName).startsWith("pgf_");
        assertThat(s3.serverName).isNotEqualTo(s1.serverName);
        assertThat(s1.sameBody(a.clone())).isTrue();
        assertThat(s1.sameBody(b)).isFalse();
    }

    @Test
    void removingTheSyncsBehindTheHeadKeepsTheHeadAndWhatFollowsAcrossWrapAround() {
        ResponseQueue q = new ResponseQueue();
        q.add(ResponseQueue.PARSE, null);
        q.add(ResponseQueue.BIND, null);
        q.poll();
        q.poll();
        // head at 2 of 4: the entries wrap
        q.add(ResponseQueue.EXECUTE, "copy");
        q.add(ResponseQueue.SYNC, null);
        q.add(ResponseQueue.SYNC, null);
        q.add(ResponseQueue.QUERY, "after");
        assertThat(q.removeBehindHead(ResponseQueue.SYNC)).isEqualTo(2);
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.peekRef()).isEqualTo("copy");
        assertThat(q.poll()).isEqualTo(ResponseQueue.EXECUTE);
        assertThat(q.peekRef()).isEqualTo("after");
        assertThat(q.poll()).isEqualTo(ResponseQueue.QUERY);
        assertThat(q.isEmpty()).isTrue();
        q.add(ResponseQueue.EXECUTE, null);
        q.add(ResponseQueue.BIND, null);
        assertThat(q.removeBehindHead(ResponseQueue.SYNC)).as("nothing to remove").isZero();
        assertThat(q.size()).isEqualTo(2);
    }
}
