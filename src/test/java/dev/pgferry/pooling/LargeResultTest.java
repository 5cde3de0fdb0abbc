package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Pool of one backend. A result larger than the client channel's write buffer makes pgferry pause reading
 * the backend until the client catches up; the transaction can end in such a paused stretch, and the backend
 * must go back to the pool reading again, or the next client on it waits forever.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class LargeResultTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "md5_u";
    static final String DB = "postgres";

    @Test
    @Timeout(120)
    void backendReleasedWhileTheClientLaggedServesTheNextClient() throws Exception {
        try (Connection big = Clients.proxy(port, USER, DB); Connection next = Clients.proxy(port, USER, DB)) {
            for (int i = 0; i < 8; i++) {
                assertThat(one(big, "select length(repeat('x', 4000000) || " + i + ")")).isEqualTo("4000001");
                String rows = one(big, "select count(*) from (select repeat('y', 1000) from generate_series(1, 3000)) t");
                assertThat(rows).isEqualTo("3000");
                try (var st = big.createStatement(); var rs = st.executeQuery(
                        "select repeat('z', 100000) from generate_series(1, 40)")) {
                    int n = 0;
                    while (rs.next()) {
                        n += rs.getString(1).length() == 100000 ? 1 : 0;
                    }
                    assertThat(n).isEqualTo(40);
                }
                String got = CompletableFuture.supplyAsync(() -> {
                    try {
                        return one(next, "select 'next served'");
                    } catch (Exception e) {
                        return "error: " + e;
                    }
                }).get(TinyPoolProfile.QUERY_WAIT_TIMEOUT_SECONDS * 3L, TimeUnit.SECONDS);
                assertThat(got).as("round " + i).isEqualTo("next served");
            }
        }
    }
}
