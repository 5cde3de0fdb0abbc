package dev.pgferry.pool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The cap shared by a database's pools (max-db-connections) or a user's (max-user-connections). */
class BackendLimitTest {
    @Test
    void aLimitAdmitsThatManyUntilOneIsReleased() {
        BackendLimit limit = new BackendLimit(2);
        assertThat(limit.tryAcquire()).isTrue();
        assertThat(limit.tryAcquire()).isTrue();
        assertThat(limit.tryAcquire()).as("a third").isFalse();
        assertThat(limit.open()).isEqualTo(2);
        limit.release();
        assertThat(limit.tryAcquire()).as("after a release").isTrue();
        assertThat(limit.open()).isEqualTo(2);
    }

    @Test
    void zeroMeansNoLimitButStillCounts() {
        BackendLimit limit = new BackendLimit(0);
        for (int i = 0; i < 1000; i++) {
            assertThat(limit.tryAcquire()).isTrue();
        }
        assertThat(limit.open()).isEqualTo(1000);
    }
}
