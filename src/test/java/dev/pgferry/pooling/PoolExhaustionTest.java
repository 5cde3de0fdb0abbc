package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Pool {@code postgres/md5_u} of one backend, 2 s query-wait-timeout. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class PoolExhaustionTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "md5_u";
    static final String DB = "postgres";

    @Test
    @Timeout(60)
    void clientWaitingLongerThanQueryWaitTimeoutGetsAnErrorAndIsServedLater() throws Exception {
        try (Connection holder = Clients.proxy(port, USER, DB); Connection waiter = Clients.proxy(port, USER, DB)) {
            holder.setAutoCommit(false);
            one(holder, "select 1"); // holds the only backend inside a transaction
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> one(waiter, "select 2")).isInstanceOf(PSQLException.class).satisfies(e -> {
                ServerErrorMessage error = ((PSQLException) e).getServerErrorMessage();
                assertThat(error.getSQLState()).isEqualTo("53300");
                assertThat(error.getSeverity()).isEqualTo("ERROR");
                assertThat(error.getMessage()).isEqualTo("pgferry: query_wait_timeout: no server connection for pool"
                        + " \"" + DB + "/" + USER + "\" within " + TinyPoolProfile.QUERY_WAIT_TIMEOUT_SECONDS + " s");
            });
            double waited = (System.nanoTime() - t0) / 1e9;
            assertThat(waited).as("seconds waited").isBetween(TinyPoolProfile.QUERY_WAIT_TIMEOUT_SECONDS - 0.2,
                    TinyPoolProfile.QUERY_WAIT_TIMEOUT_SECONDS + 1.5);
            holder.commit();
            try (Connection third = Clients.proxy(port, USER, DB)) {
                assertThat(one(third, "select 3")).isEqualTo("3");
            }
            assertThat(one(waiter, "select 4")).as("the timed-out client was kept and is served now").isEqualTo("4");
            assertThat(one(holder, "select 5")).isEqualTo("5");
        }
    }

    @Test
    @Timeout(60)
    void clientWaitingLessThanQueryWaitTimeoutIsServedWhenTheBackendFrees() throws Exception {
        try (Connection holder = Clients.proxy(port, USER, DB); Connection waiter = Clients.proxy(port, USER, DB)) {
            holder.setAutoCommit(false);
            one(holder, "select 1");
            var result = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return one(waiter, "select 'served'");
                } catch (SQLException e) {
                    return "error " + e.getSQLState() + ": " + e.getMessage();
                }
            });
            Thread.sleep(1000);
            assertThat(result).isNotDone();
            holder.commit();
            assertThat(result.get(2, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("served");
        }
    }
}
