package dev.pgferry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.devservice.DbUser;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class PostgresFixtureTest {

    private static final PostgresFixture PG = PostgresFixture.get();

    static Stream<DbUser> users() {
        return PG.users().stream();
    }

    @ParameterizedTest
    @MethodSource("users")
    void eachUserLogsInWithItsOwnPasswordMethod(DbUser user) throws SQLException {
        try (Connection c = PG.connect(user, "bench"); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(user.name());
            }
            if (c.getMetaData().getDatabaseMajorVersion() >= 16) {
                // SYSTEM_USER (PostgreSQL 16+) names the method that admitted this session
                try (ResultSet rs = st.executeQuery("select system_user")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo(user.authMethod() + ":" + user.name());
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("users")
    void wrongPasswordIsRefusedWith28P01(DbUser user) {
        assertThatThrownBy(() -> PG.connect(user.name(), "wrong", "postgres").close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    }

    @Test
    void eachUserIsAdmittedByTheMethodItIsNamedFor() throws SQLException {
        // pg_hba_file_rules shows what the server enforces; the stored secret decides what md5_u can answer
        try (Connection c = PG.connect(PostgresFixture.SUPERUSER, "postgres"); Statement st = c.createStatement()) {
            for (DbUser user : PG.users()) {
                try (ResultSet rs = st.executeQuery("select auth_method from pg_hba_file_rules where type = 'host'"
                        + " and address = '127.0.0.1' and (user_name = '{" + user.name() + "}' or user_name = '{all}')"
                        + " order by line_number limit 1")) {
                    if (PG.isLocal()) {
                        rs.next();
                        assertThat(rs.getString(1)).as(user.name()).isEqualTo(user.authMethod());
                    }
                }
                try (ResultSet rs = st.executeQuery("select left(rolpassword, 3) from pg_authid where rolname = '"
                        + user.name() + "'")) {
                    rs.next();
                    assertThat(rs.getString(1)).as(user.name()).isEqualTo(user.authMethod().equals("md5") ? "md5" : "SCR");
                }
            }
        }
    }

    @Test
    void usersFileListsAllFourUsersInPgBouncerFormat() throws Exception {
        assertThat(Files.readAllLines(PG.usersFile())).containsExactly(
                "\"postgres\" \"secret\"",
                "\"scram_u\" \"scram_pw\"",
                "\"md5_u\" \"md5_pw\"",
                "\"plain_u\" \"plain_pw\"");
    }

    @Test
    void theSameClusterServesTheWholeJvm() {
        assertThat(PostgresFixture.get()).isSameAs(PG);
        assertThat(PG.jdbcUrl("bench")).isEqualTo("jdbc:postgresql://" + PG.host() + ":" + PG.port() + "/bench");
    }
}
