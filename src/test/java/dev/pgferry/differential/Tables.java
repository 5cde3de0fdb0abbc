package dev.pgferry.differential;

import dev.pgferry.testing.PostgresFixture;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** The arms' tables, in schema {@code diff}: recreated before every run, owned by the test user so it may ALTER them. */
final class Tables {
    static final String USER = "md5_u";
    static final String PASSWORD = "md5_pw";
    static final String DATABASE = "postgres";

    private Tables() {}

    static void reset(String table) throws SQLException {
        try (Connection c = PostgresFixture.get().connect(PostgresFixture.SUPERUSER, DATABASE);
                Statement st = c.createStatement()) {
            st.execute("create schema if not exists diff");
            st.execute("grant all on schema diff to public");
            st.execute("drop table if exists " + table);
            st.execute("create table " + table + " (id int, c1 int)");
            st.execute("insert into " + table + " values (1, 10), (2, 20)");
            st.execute("alter table " + table + " owner to " + USER);
        }
    }
}
