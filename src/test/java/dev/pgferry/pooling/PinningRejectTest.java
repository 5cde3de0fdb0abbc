package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.Statement;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code pgferry.pool.pinning=reject}: LISTEN is answered with SQLSTATE 0A000 and the client stays unpinned and
 * usable. Pool {@code postgres/plain_u} of one backend, so a pinned client would starve the next one.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class PinningRejectTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "plain_u";
    static final String DB = "postgres";

    @ParameterizedTest
    @ValueSource(strings = {"extended", "simple"})
    @Timeout(60)
    void listenIsRefusedWithFeatureNotSupportedAndTheConnectionStaysUsable(String mode) throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB, "preferQueryMode", mode)) {
            try (Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute("LISTEN pooling_reject")).satisfies(e -> {
                    assertThat(Clients.sqlState(e)).isEqualTo("0A000");
                    assertThat(e.getMessage()).contains("LISTEN").contains("pinning=reject");
                });
            }
            assertThat(one(c, "select 'still here'")).isEqualTo("still here");
            assertThat(one(c, "select count(*) from pg_listening_channels()")).isEqualTo("0");
            try (Connection other = Clients.proxy(port, USER, DB)) {
                assertThat(one(other, "select 'not starved'")).isEqualTo("not starved");
            }
        }
    }

    @Test
    @Timeout(60)
    void listenInsideATransactionFailsThatTransactionOnly() throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB)) {
            c.setAutoCommit(false);
            one(c, "select 1");
            try (Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute("listen pooling_reject"))
                        .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("0A000"));
                assertThatThrownBy(() -> st.execute("select 1"))
                        .satisfies(e -> assertThat(Clients.sqlState(e)).isEqualTo("25P02"));
            }
            c.rollback();
            c.setAutoCommit(true);
            assertThat(one(c, "select 'after rollback'")).isEqualTo("after rollback");
            try (Connection other = Clients.proxy(port, USER, DB)) {
                assertThat(one(other, "select 'not starved'")).isEqualTo("not starved");
            }
        }
    }

    /** Session state a DO block changes where the lexer cannot follow it is refused like LISTEN, before it runs. */
    @ParameterizedTest
    @ValueSource(strings = {
        "DO $$ BEGIN PERFORM set_config('search_path', 'pg_catalog', false); END $$",
        "DO $$ BEGIN EXECUTE format('SET search_path = %I', 'pg_catalog'); END $$",
    })
    @Timeout(60)
    void doBlocksThatWouldPinAreRefusedAndChangeNothing(String sql) throws Exception {
        try (Connection c = Clients.proxy(port, USER, DB)) {
            String path = one(c, "show search_path");
            try (Statement st = c.createStatement()) {
                assertThatThrownBy(() -> st.execute(sql)).satisfies(e -> {
                    assertThat(Clients.sqlState(e)).isEqualTo("0A000");
                    assertThat(e.getMessage()).contains("pinning=reject");
                });
            }
            assertThat(one(c, "show search_path")).isEqualTo(path);
            try (Connection other = Clients.proxy(port, USER, DB)) {
                assertThat(one(other, "show search_path")).isEqualTo(path);
            }
        }
    }
}
