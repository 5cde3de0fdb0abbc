package dev.pgferry.admin;

import static dev.pgferry.admin.AdminConsoleRows.rows;
import static dev.pgferry.admin.AdminSql.assertError;
import static dev.pgferry.admin.AdminSql.count;
import static dev.pgferry.admin.AdminSql.exec;
import static dev.pgferry.admin.AdminSql.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.observability.ThroughPgferry;
import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** KILL_CLIENT, as PgBouncer's, seen from the admin user, the client closed, another client and the server. */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(DatabaseCommandsProfile.class)
class KillClientTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @Test
    void killClientClosesOnlyThatClientWithPgBouncersErrorAndRollsBackItsTransaction() throws Exception {
        try (Connection direct = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "bench")) {
            one(direct, "create table if not exists kill_client_probe (who text)");
            one(direct, "grant all on kill_client_probe to public");
            one(direct, "delete from kill_client_probe");
        }
        try (Connection admin = ThroughPgferry.admin(port); Connection victim = connect("bench");
                Connection other = connect("bench");
                Connection direct = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, "bench")) {
            victim.setAutoCommit(false);
            other.setAutoCommit(false);
            one(victim, "insert into kill_client_probe values ('victim')");
            one(other, "insert into kill_client_probe values ('other')");
            String victimPid = one(victim, "select pg_backend_pid()");
            String otherPid = one(other, "select pg_backend_pid()");
            String id = rows(admin, "SHOW SERVERS").stream().filter(s -> victimPid.equals(s.get("remote_pid")))
                    .findFirst().orElseThrow().get("link");
            assertThat(id).as("SHOW CLIENTS' id of the victim").startsWith("C-");

            assertThat(exec(admin, "KILL_CLIENT " + id)).isFalse();

            assertThatThrownBy(() -> one(victim, "select 1")).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("08P01");
                assertThat(e.getMessage()).isEqualTo("FATAL: admin forced disconnect");
            });
            assertThat(ThroughPgferry.eventually(Duration.ofSeconds(5),
                    () -> count(direct, "select count(*) from pg_stat_activity where pid = " + victimPid
                            + " and state = 'idle'") == 1))
                    .as("the victim's backend is rolled back and stays open, back in the pool").isTrue();
            assertThat(rows(admin, "SHOW CLIENTS")).noneMatch(c -> c.get("id").equals(id));
            assertThat(one(other, "select pg_backend_pid()")).as("another client keeps its transaction")
                    .isEqualTo(otherPid);
            other.commit();
            assertThat(one(direct, "select string_agg(who, ',') from kill_client_probe"))
                    .as("the victim's insert is rolled back, the other client's committed").isEqualTo("other");

            assertError(admin, "KILL_CLIENT " + id, "42704", "client not found");
            assertError(admin, "KILL_CLIENT C-999999999", "42704", "client not found");
            assertError(admin, "KILL_CLIENT abc", "42601", "invalid client pointer supplied");
            assertError(admin, "KILL_CLIENT", "42601", "invalid client pointer supplied");
        }
    }

    @Test
    void killClientTakesPgBouncersNumericIdToo() throws Exception {
        try (Connection admin = ThroughPgferry.admin(port); Connection victim = connect("postgres")) {
            String pid = one(victim, "select pg_backend_pid()");
            victim.setAutoCommit(false);
            one(victim, "select 1");
            String id = rows(admin, "SHOW SERVERS").stream().filter(s -> pid.equals(s.get("remote_pid")))
                    .findFirst().orElseThrow().get("link");
            assertThat(exec(admin, "kill_client " + id.substring(2))).isFalse();
            assertThatThrownBy(() -> one(victim, "select 1")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getMessage()).isEqualTo("FATAL: admin forced disconnect"));
        }
    }

    // --- helpers ---

    private Connection connect(String database) throws SQLException {
        return ThroughPgferry.connect(port, "scram_u", "scram_pw", database, true);
    }
}
