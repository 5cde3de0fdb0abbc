package dev.pgferry.pooling;

import static dev.pgferry.pooling.Clients.one;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.PostgresResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * pgjdbc sends ApplicationName in the startup packet only with {@code assumeMinServerVersion} (else it runs a SET
 * after connecting, which RESET undoes on a real server too), so clients with a startup application name set it.
 *
 * <p>Clients interleaving on the one backend of a pool never see each other's session parameters, and RESET
 * returns a client to its own startup values. Pool {@code postgres/scram_u}, size 1.
 */
@QuarkusTest
@WithTestResource(PostgresResource.class)
@TestProfile(TinyPoolProfile.class)
class ParameterIsolationTest {
    /** pgferry's listen port, injected from the application under test. */
    @ConfigProperty(name = "pgferry.listen-port")
    int port;

    static final String USER = "scram_u";
    static final String DB = "postgres";

    /** Parameters a client may set, each with values whose {@code SHOW} text is the value as written. */
    static final Map<String, List<String>> VALUES = new LinkedHashMap<>();

    static {
        VALUES.put("TimeZone", List.of("UTC", "Europe/Berlin", "Asia/Tokyo", "America/Sao_Paulo", "Australia/Adelaide"));
        VALUES.put("application_name", List.of("alpha", "beta", "gamma", "delta"));
        VALUES.put("DateStyle", List.of("ISO, MDY", "ISO, DMY", "ISO, YMD")); // pgjdbc insists on ISO
        VALUES.put("search_path", List.of("public", "pg_catalog, public", "\"$user\", public"));
        VALUES.put("statement_timeout", List.of("0", "1min", "2s", "45s"));
        VALUES.put("default_transaction_isolation", List.of("read committed", "repeatable read", "serializable"));
    }

    @BeforeAll
    static void schemas() throws SQLException {
        Clients.directExec(DB, "create schema if not exists pooling_a", "grant all on schema pooling_a to public");
    }

    static Map<String, String> show(Connection c) throws SQLException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String p : VALUES.keySet()) {
            m.put(p, one(c, "show " + p));
        }
        return m;
    }

    static String setSql(String param, String value) {
        return switch (param) {
            case "search_path" -> "set search_path = " + value;
            case "default_transaction_isolation" -> "set default_transaction_isolation = '" + value + "'";
            default -> "set " + param + " = '" + value + "'";
        };
    }

    @Test
    @Timeout(60)
    void setsOfOneClientAreInvisibleToOthersOnTheSameBackend() throws Exception {
        try (Connection before = Clients.proxy(port, USER, DB);
                Connection a = Clients.proxy(port, USER, DB, "ApplicationName", "a-startup", "assumeMinServerVersion", "10",
                        "options", "-c statement_timeout=5s")) {
            String serverDateStyle;
            try (Connection d = Clients.direct(DB)) {
                serverDateStyle = one(d, "show DateStyle");
            }
            Map<String, String> beforeOwn = show(before);
            Map<String, String> aStartup = show(a);
            // pgjdbc's startup DateStyle=ISO: a fresh server session shows the server's default order
            assertThat(beforeOwn.get("DateStyle")).as("DateStyle of a new client").isEqualTo(serverDateStyle);
            assertThat(aStartup.get("DateStyle")).as("DateStyle of a new client").isEqualTo(serverDateStyle);
            assertThat(aStartup).containsEntry("application_name", "a-startup").containsEntry("statement_timeout", "5s");
            // pool size 1: both are served by one server process, so the test really interleaves them
            assertThat(one(a, "select pg_backend_pid()")).isEqualTo(one(before, "select pg_backend_pid()"));

            try (Statement st = a.createStatement()) {
                st.execute("set TimeZone = 'America/Sao_Paulo'");
                st.execute("set application_name = 'a-set'");
                st.execute("set DateStyle = 'ISO, DMY'");
                st.execute("set search_path = pooling_a, public");
                st.execute("set statement_timeout = '7s'");
                st.execute("set session characteristics as transaction isolation level serializable");
            }
            Map<String, String> aSet = Map.of("TimeZone", "America/Sao_Paulo", "application_name", "a-set",
                    "DateStyle", "ISO, DMY", "search_path", "pooling_a, public", "statement_timeout", "7s",
                    "default_transaction_isolation", "serializable");

            assertThat(show(before)).as("a client connected before A's SETs").isEqualTo(beforeOwn);
            try (Connection fresh = Clients.proxy(port, USER, DB)) {
                assertThat(show(fresh)).as("a client connected after A's SETs").isEqualTo(beforeOwn);
                assertThat(one(fresh, "select current_setting('transaction_isolation')")).isEqualTo("read committed");
            }
            assertThat(show(a)).as("A after the others used its backend").isEqualTo(aSet);
            a.setAutoCommit(false);
            assertThat(one(a, "select current_setting('transaction_isolation')")).isEqualTo("serializable");
            a.commit();
            a.setAutoCommit(true);
            assertThat(show(before)).isEqualTo(beforeOwn);

            try (Statement st = a.createStatement()) {
                st.execute("reset all");
            }
            assertThat(show(a)).as("RESET ALL returns A to its startup values, not the server's").isEqualTo(aStartup);
            assertThat(show(before)).isEqualTo(beforeOwn);
            assertThat(show(a)).isEqualTo(aStartup);
        }
    }

    @Test
    @Timeout(60)
    void resetOfOneParameterReturnsToTheStartupValue() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB, "ApplicationName", "a-startup", "assumeMinServerVersion", "10",
                        "options", "-c statement_timeout=5s");
                Connection b = Clients.proxy(port, USER, DB)) {
            String bApp = one(b, "show application_name");
            try (Statement st = a.createStatement()) {
                st.execute("set statement_timeout = '9s'");
                st.execute("set application_name = 'other'");
            }
            one(b, "select 1");
            try (Statement st = a.createStatement()) {
                st.execute("reset statement_timeout");
                st.execute("reset application_name");
            }
            one(b, "select 1");
            assertThat(one(a, "show statement_timeout")).isEqualTo("5s");
            assertThat(one(a, "show application_name")).isEqualTo("a-startup");
            assertThat(one(b, "show statement_timeout")).isEqualTo("0");
            assertThat(one(b, "show application_name")).isEqualTo(bApp);
        }
    }

    /**
     * What comes last in a transaction wins: a SET after a RESET (of the same parameter, or RESET ALL) is the
     * client's value, not its startup one; a RESET after a SET returns to the startup value — in one multi-statement
     * query and across the statements of an explicit transaction, while another client shares the backend.
     */
    @Test
    @Timeout(60)
    void theLastOfSetAndResetInATransactionWins() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB, "assumeMinServerVersion", "10", "preferQueryMode", "simple",
                        "options", "-c statement_timeout=5s -c search_path=pooling_a,public");
                Connection b = Clients.proxy(port, USER, DB)) {
            String bPath = one(b, "show search_path");
            try (Statement st = a.createStatement()) {
                st.execute("reset statement_timeout; set statement_timeout = '7s'");
            }
            one(b, "select 1");
            assertThat(one(a, "show statement_timeout")).as("SET after RESET in one query").isEqualTo("7s");

            try (Statement st = a.createStatement()) {
                st.execute("set statement_timeout = '8s'; reset statement_timeout");
            }
            one(b, "select 1");
            assertThat(one(a, "show statement_timeout")).as("RESET after SET in one query").isEqualTo("5s");

            try (Statement st = a.createStatement()) {
                st.execute("reset all; set search_path = pooling_b, public; set statement_timeout = '6s'");
            }
            one(b, "select 1");
            assertThat(one(a, "show search_path")).as("SET after RESET ALL").isEqualTo("pooling_b, public");
            assertThat(one(a, "show statement_timeout")).as("SET after RESET ALL").isEqualTo("6s");

            a.setAutoCommit(false);
            try (Statement st = a.createStatement()) {
                st.execute("set statement_timeout = '9s'");
                st.execute("reset all");
                st.execute("set statement_timeout = '4s'");
            }
            a.commit();
            a.setAutoCommit(true);
            one(b, "select 1");
            assertThat(one(a, "show statement_timeout")).as("SET after RESET ALL, one statement each")
                    .isEqualTo("4s");
            assertThat(one(a, "show search_path")).as("RESET ALL, startup value").isEqualTo("pooling_a,public");
            assertThat(one(b, "show statement_timeout")).isEqualTo("0");
            assertThat(one(b, "show search_path")).isEqualTo(bPath);
        }
    }

    /**
     * A DO block runs its statements in the client's session: a PL/pgSQL {@code SET}, or one it EXECUTEs as a
     * literal, changes the client's parameters as a top-level SET would, and no other client sees it.
     */
    @Test
    @Timeout(60)
    void setsInsideADoBlockAreTheClientsOwn() throws Exception {
        try (Connection a = Clients.proxy(port, USER, DB); Connection b = Clients.proxy(port, USER, DB)) {
            String bPath = one(b, "show search_path");
            String bTimeout = one(b, "show statement_timeout");
            try (Statement st = a.createStatement()) {
                st.execute("DO $$ BEGIN IF true THEN SET search_path = pooling_a, public; END IF; END $$");
                st.execute("DO $$ BEGIN EXECUTE 'SET statement_timeout = ''3s'''; END $$");
            }
            assertThat(one(b, "show search_path")).as("B after A's DO blocks").isEqualTo(bPath);
            assertThat(one(b, "show statement_timeout")).isEqualTo(bTimeout);
            assertThat(one(a, "show search_path")).as("A after B used the backend").isEqualTo("pooling_a, public");
            assertThat(one(a, "show statement_timeout")).isEqualTo("3s");
            try (Connection fresh = Clients.proxy(port, USER, DB)) {
                assertThat(one(fresh, "show search_path")).isEqualTo(bPath);
                assertThat(one(fresh, "show statement_timeout")).isEqualTo(bTimeout);
            }
        }
    }

    /**
     * pgjdbc's startup packet says {@code DateStyle=ISO}, which sets only the output format: on a server session whose
     * DateStyle is {@code ISO, DMY} it leaves the field order DMY. A new client must still see what a fresh server
     * session shows, whatever the client before it on the same backend chose.
     */
    @Test
    @Timeout(60)
    void newClientNeverInheritsAnotherClientsDateStyleOrder() throws Exception {
        String serverDefault;
        try (Connection d = Clients.direct(DB)) {
            serverDefault = one(d, "show DateStyle");
        }
        try (Connection a = Clients.proxy(port, USER, DB)) {
            try (Statement st = a.createStatement()) {
                st.execute("set DateStyle = 'ISO, DMY'");
            }
            try (Connection b = Clients.proxy(port, USER, DB)) {
                assertThat(one(b, "show DateStyle")).as("a client connected while A is ISO, DMY").isEqualTo(serverDefault);
            }
        }
        try (Connection c = Clients.proxy(port, USER, DB)) {
            assertThat(one(c, "show DateStyle")).as("a client connected after A left").isEqualTo(serverDefault);
        }
    }

    /**
     * Several clients, thousands of transactions on one backend: each client SETs or RESETs a random parameter
     * or checks one, and SHOW always answers the client's own last value.
     */
    @Test
    @Timeout(180)
    void randomisedSetsAndShowsAlwaysSeeTheClientsOwnValues() throws Exception {
        int clients = 6;
        int transactions = 600;
        long seed = Long.getLong("pooling.seed", System.nanoTime());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int n = 0; n < clients; n++) {
                int id = n;
                done.add(pool.submit(() -> {
                    runRandomClient(id, new Random(seed + id), transactions);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                try {
                    f.get(170, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new AssertionError("seed " + seed + " (-Dpooling.seed=" + seed + "): " + e.getCause(),
                            e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void runRandomClient(int id, Random rnd, int transactions) throws SQLException {
        String startupApp = "client-" + id;
        String startupTimeout = (id + 1) + "s";
        try (Connection c = Clients.proxy(port, USER, DB, "ApplicationName", startupApp, "assumeMinServerVersion", "10",
                "options", "-c statement_timeout=" + startupTimeout)) {
            Map<String, String> startup = show(c);
            assertThat(startup).containsEntry("application_name", startupApp)
                    .containsEntry("statement_timeout", startupTimeout);
            Map<String, String> expected = new LinkedHashMap<>(startup);
            List<String> names = new ArrayList<>(VALUES.keySet());
            List<String> log = new ArrayList<>();
            for (int t = 0; t < transactions; t++) {
                String p = names.get(rnd.nextInt(names.size()));
                int op = rnd.nextInt(20);
                try (Statement st = c.createStatement()) {
                    if (op < 8) {
                        List<String> vs = VALUES.get(p);
                        String v = vs.get(rnd.nextInt(vs.size()));
                        st.execute(setSql(p, v));
                        expected.put(p, v);
                        log.add(setSql(p, v));
                    } else if (op == 8) {
                        st.execute("reset " + p);
                        expected.put(p, startup.get(p));
                        log.add("reset " + p);
                    } else if (op == 9) {
                        st.execute("reset all");
                        expected.putAll(startup);
                        log.add("reset all");
                    } else {
                        String got = one(c, "show " + p);
                        if (!expected.get(p).equals(got)) {
                            throw new AssertionError("client " + id + " transaction " + t + ": show " + p + " = '"
                                    + got + "', expected '" + expected.get(p) + "'; its last statements: "
                                    + log.subList(Math.max(0, log.size() - 8), log.size()));
                        }
                    }
                }
            }
            assertThat(show(c)).as("client %d at the end", id).isEqualTo(expected);
        }
    }
}
