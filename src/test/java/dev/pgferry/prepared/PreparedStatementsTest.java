package dev.pgferry.prepared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgferry.testing.PostgresFixture;
import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * Protocol-level named statements in transaction mode over a pool of 2 backends that keep at most 3
 * statements each: drivers that prepare (pgjdbc, the Vert.x PG client, pgbench -M prepared) just work.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(PreparedStatementsTest.TinyPool.class)
class PreparedStatementsTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    public static class TinyPool implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgferry.pool.size", "2", "pgferry.prepared.max-per-backend", "3");
        }
    }

    @BeforeAll
    static void tables() throws SQLException {
        PostgresFixture pg = PostgresFixture.get();
        pg.local().initPgbench(1);
        try (Connection c = pg.connect(PostgresFixture.SUPERUSER, "bench"); Statement s = c.createStatement()) {
            s.execute("create table if not exists prep_t (id int primary key, v text)");
            s.execute("grant all on prep_t to public");
        }
    }

    Connection proxy(String extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", "secret");
        if (!extra.isEmpty()) {
            for (String kv : extra.split("&")) {
                String[] x = kv.split("=", 2);
                p.setProperty(x[0], x[1]);
            }
        }
        return new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/bench", p);
    }

    @Test
    void pgjdbcClientsShareTwoBackendsWithServerPreparedStatements() throws Exception {
        for (String mode : List.of("prepareThreshold=1", "prepareThreshold=5")) {
            AtomicInteger done = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 12; t++) {
                int client = t;
                fs.add(pool.submit(() -> {
                    try (Connection c = proxy(mode)) {
                        // several statements per client, more than a backend keeps: eviction and re-prepare
                        String[] sqls = {"select ?::int + 1", "select ?::int * 2", "select abs(?::int)",
                                "select ?::int - 3", "select length(repeat('x', ?::int))"};
                        for (int i = 0; i < 120; i++) {
                            String sql = sqls[(i + client) % sqls.length];
                            try (PreparedStatement ps = c.prepareStatement(sql)) {
                                ps.setInt(1, i);
                                try (ResultSet rs = ps.executeQuery()) {
                                    rs.next();
                                    int expected = switch ((i + client) % sqls.length) {
                                        case 0 -> i + 1;
                                        case 1 -> i * 2;
                                        case 2 -> i;
                                        case 3 -> i - 3;
                                        default -> i;
                                    };
                                    assertThat(rs.getInt(1)).isEqualTo(expected);
                                }
                            }
                            done.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (var f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(done.get()).as(mode).isEqualTo(12 * 120);
        }
    }

    @Test
    void sameNameDifferentTextAndDifferentParameterTypes() throws SQLException {
        try (Connection a = proxy("prepareThreshold=1"); Connection b = proxy("prepareThreshold=1")) {
            // both drivers name their first statement S_1, with different SQL
            try (PreparedStatement pa = a.prepareStatement("select ?::text || 'a'");
                    PreparedStatement pb = b.prepareStatement("select ?::int + 100")) {
                for (int i = 0; i < 20; i++) {
                    pa.setString(1, "x" + i);
                    pb.setInt(1, i);
                    try (ResultSet ra = pa.executeQuery(); ResultSet rb = pb.executeQuery()) {
                        ra.next();
                        rb.next();
                        assertThat(ra.getString(1)).isEqualTo("x" + i + "a");
                        assertThat(rb.getInt(1)).isEqualTo(100 + i);
                    }
                }
            }
            // same text, different parameter types: distinct server-side statements
            try (PreparedStatement p1 = a.prepareStatement("select pg_typeof(?)::text");
                    PreparedStatement p2 = a.prepareStatement("select pg_typeof(?)::text")) {
                p1.setInt(1, 1);
                p2.setString(1, "s");
                try (ResultSet r1 = p1.executeQuery(); ResultSet r2 = p2.executeQuery()) {
                    r1.next();
                    r2.next();
                    assertThat(r1.getString(1)).isEqualTo("integer");
                    assertThat(r2.getString(1)).isIn("character varying", "text");
                }
            }
        }
    }

    @Test
    void failingParseReportsTheServersErrorAndLeavesNoBogusEntry() throws SQLException {
        try (Connection c = proxy("prepareThreshold=1"); Statement s = c.createStatement()) {
            s.execute("drop table if exists prep_late");
            assertThatThrownBy(() -> {
                try (PreparedStatement ps = c.prepareStatement("select count(*) from prep_late where 1 = ?")) {
                    ps.setInt(1, 1);
                    ps.executeQuery();
                }
            }).isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P01"));
            s.execute("create table prep_late (x int)");
            s.execute("insert into prep_late values (1)");
            try (PreparedStatement ps = c.prepareStatement("select count(*) from prep_late where 1 = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                }
            }
            s.execute("drop table prep_late");
        }
    }

    @Test
    void deallocateAllBehavesAsOnTheServerItself() throws Exception {
        String viaProxy = deallocateScenario(proxy("prepareThreshold=1"));
        String direct = deallocateScenario(PostgresFixture.get().connect("postgres", "secret", "bench"));
        assertThat(viaProxy).isEqualTo(direct);
    }

    /** Prepares, runs DEALLOCATE ALL, runs again: returns what the second run gave (value or SQLSTATE). */
    private static String deallocateScenario(Connection c) throws SQLException {
        try (c) {
            c.unwrap(org.postgresql.PGConnection.class).setPrepareThreshold(1);
            try (PreparedStatement ps = c.prepareStatement("select 40 + ?"); Statement s = c.createStatement()) {
                ps.setInt(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
                s.execute("deallocate all");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return "value " + rs.getInt(1);
                } catch (PSQLException e) {
                    return "error " + e.getSQLState();
                }
            }
        }
    }

    @Test
    void vertxPipelinedPreparedQueries() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            PgConnectOptions o = new PgConnectOptions().setHost("127.0.0.1").setPort(port).setDatabase("bench")
                    .setUser("scram_u").setPassword("scram_pw").setPipeliningLimit(16);
            List<Integer> results = new ArrayList<>();
            PgConnection conn = PgConnection.connect(vertx, o).toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            try {
                for (int round = 0; round < 20; round++) {
                    List<Future<Integer>> inflight = new ArrayList<>();
                    for (int i = 0; i < 16; i++) {
                        int n = round * 16 + i;
                        String sql = i % 2 == 0 ? "select $1::int + 1" : "select $1::int * 3";
                        inflight.add(conn.preparedQuery(sql).execute(Tuple.of(n))
                                .map(rs -> rs.iterator().next().getInteger(0)));
                    }
                    for (int i = 0; i < inflight.size(); i++) {
                        int n = round * 16 + i;
                        int v = inflight.get(i).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
                        assertThat(v).isEqualTo(i % 2 == 0 ? n + 1 : n * 3);
                        results.add(v);
                    }
                }
            } finally {
                conn.close();
            }
            assertThat(results).hasSize(320);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void pgbenchPreparedWithFiftyClientsHasNoFailures() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("pgbench", "-n", "-S", "-M", "prepared", "-c", "50", "-j", "2", "-T",
                "4", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres", "bench");
        pb.environment().put("PGPASSWORD", "secret");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            r.lines().forEach(l -> out.append(l).append('\n'));
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = out.toString();
        assertThat(p.exitValue()).as(text).isZero();
        Matcher processed = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(text);
        assertThat(processed.find()).as(text).isTrue();
        assertThat(Long.parseLong(processed.group(1))).isPositive();
        Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(text);
        if (failed.find()) {
            assertThat(failed.group(1)).as(text).isEqualTo("0");
        }
        assertThat(text).doesNotContain("error");
    }
}
