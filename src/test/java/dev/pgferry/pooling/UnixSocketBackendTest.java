package dev.pgferry.pooling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresUnixSocketResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Backends over PostgreSQL's Unix-domain socket ({@code pgferry.backend.host} = its directory), with pgjdbc. */
@QuarkusTest
@WithTestResource(PostgresUnixSocketResource.class)
class UnixSocketBackendTest {
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    @ConfigProperty(name = "pgferry.backend.host")
    String backendHost;

    @BeforeEach
    void onlyWithALocalCluster() {
        assumeTrue(PostgresFixture.get().isLocal(), "the cluster runs in a container: no Unix socket to reach");
        assertThat(backendHost).startsWith("/");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"scram_u", "md5_u", "plain_u"})
    @Timeout(60)
    void queriesRunOnBackendsConnectedThroughTheSocket(String user) throws Exception {
        try (Connection c = Clients.proxy(port, user, "postgres"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select inet_server_addr() is null, client_addr is null,"
                        + " client_port, current_user from pg_stat_activity where pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as("server address of a socket connection").isTrue();
            assertThat(rs.getBoolean(2)).as("client address of a socket connection").isTrue();
            assertThat(rs.getInt(3)).as("client_port of a socket connection").isEqualTo(-1);
            assertThat(rs.getString(4)).isEqualTo(user);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"scram_u"})
    @Timeout(60)
    void aCancelReachesTheServerThroughTheSocket(String user) throws Exception {
        try (Connection c = Clients.proxy(port, user, "postgres"); Statement st = c.createStatement()) {
            st.setQueryTimeout(1); // pgjdbc sends a CancelRequest after 1 s
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> st.execute("select pg_sleep(30)")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds until cancelled").isLessThan(10);
            try (ResultSet rs = st.executeQuery("select 'still usable'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("still usable");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"scram_u"})
    @Timeout(60)
    void showServersNamesTheSocketAsPgBouncerDoes(String user) throws Exception {
        try (Connection c = Clients.proxy(port, user, "postgres");
                Connection admin = dev.pgferry.observability.ThroughPgferry.admin(port)) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("select 1"); // holds its backend until commit
            }
            java.util.List<java.util.Map<String, String>> servers =
                    dev.pgferry.admin.AdminConsoleRows.rows(admin, "SHOW SERVERS");
            assertThat(servers).filteredOn(s -> user.equals(s.get("user"))).isNotEmpty().allSatisfy(s -> {
                assertThat(s.get("addr")).isEqualTo("unix");
                assertThat(s.get("local_addr")).isEqualTo("unix");
                assertThat(s.get("port")).isEqualTo(Integer.toString(PostgresFixture.get().port()));
            });
            c.commit();
        }
    }
}
