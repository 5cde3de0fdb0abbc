package dev.pgferry.admin;

import static dev.pgferry.admin.AdminConsoleRows.rows;
import static dev.pgferry.admin.AdminSql.assertError;
import static dev.pgferry.admin.AdminSql.count;
import static dev.pgferry.admin.AdminSql.exec;
import static dev.pgferry.admin.AdminSql.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** WAIT_CLOSE, as PgBouncer's, seen from the admin user, a client holding a marked backend and the server. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(DatabaseCommandsProfile.class)
class WaitCloseTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    void waitCloseReturnsOnlyOnceTheBackendReconnectMarkedIsReleasedAndClosed() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port); Connection waiter = ThroughPgferry.admin(port);
                Connection holder = connect("bench");
                Connection direct = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "postgres")) {
            holder.setAutoCommit(false);
            String held = one(holder, "select pg_backend_pid()");
            assertThat(CompletableFuture.supplyAsync(() -> execUnchecked(waiter, "WAIT_CLOSE bench"))
                    .get(3, TimeUnit.SECONDS)).as("nothing marked: at once, the held backend not waited for")
                    .isFalse();

            assertThat(exec(admin, "RECONNECT bench")).isFalse();
            CompletableFuture<Boolean> wait = CompletableFuture.supplyAsync(() -> execUnchecked(waiter,
                    "WAIT_CLOSE bench"));
            Thread.sleep(1500);
            assertThat(wait).as("the marked backend is still held in a transaction").isNotDone();
            assertThat(rows(admin, "SHOW POOLS")).as("the console answers meanwhile").isNotEmpty();
            assertThat(count(direct, "select count(*) from pg_stat_activity where pid = " + held)).isEqualTo(1);

            holder.commit();
            assertThat(wait.get(5, TimeUnit.SECONDS)).isFalse();
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(5),
                    () -> count(direct, "select count(*) from pg_stat_activity where pid = " + held) == 0))
                    .as("the server process is gone").isTrue();
            assertThat(one(holder, "select pg_backend_pid()")).isNotEqualTo(held);
            holder.commit();

            assertThat(CompletableFuture.supplyAsync(() -> execUnchecked(waiter, "WAIT_CLOSE"))
                    .get(3, TimeUnit.SECONDS)).as("without a name, every database: nothing left to close").isFalse();
            assertError(admin, "WAIT_CLOSE pgferry", "0A000", "cannot wait in admin db: pgferry");
        }
    }

    // --- helpers ---

    private Connection connect(String database) throws SQLException {
        return ThroughPgferry.connect(port, "scram_u", "scram_pw", database, true);
    }

    private static boolean execUnchecked(Connection admin, String command) {
        try {
            return exec(admin, command);
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }
}
