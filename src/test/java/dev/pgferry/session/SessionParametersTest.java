package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** A client's parameters against a backend's: the restore diff, literal quoting, and the startup options string. */
class SessionParametersTest {

    private static Map<String, String> serverDefaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("application_name", "");
        m.put("DateStyle", "ISO, MDY");
        m.put("TimeZone", "UTC");
        m.put("client_encoding", "UTF8");
        return Map.copyOf(m);
    }

    private static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private final List<String> set = new ArrayList<>();
    private final List<String> reset = new ArrayList<>();

    // ---- startup values and overrides ----------------------------------------------------------

    @Test
    void clientsThatLoggedInAlikeShareTheirMapsUntilOneChangesSomething() {
        var interned = new ParameterSignatures();
        SessionParameters a = new SessionParameters(serverDefaults(), map("application_name", "app", "search_path", "s"), interned);
        SessionParameters b = new SessionParameters(serverDefaults(), map("search_path", "s", "application_name", "app"), interned);
        SessionParameters c = new SessionParameters(serverDefaults(), map("application_name", "other"), interned);
        assertThat(a.startup()).isSameAs(b.startup()).isNotSameAs(c.startup());
        assertThat(a.signature()).isSameAs(b.signature()).isNotSameAs(c.signature());
        a.reportedChanged("TimeZone", "Europe/Paris");
        assertThat(a.overrides()).containsEntry("TimeZone", "Europe/Paris");
        assertThat(b.overrides()).as("the other client's parameters stay as they were")
                .containsOnly(Map.entry("application_name", "app"), Map.entry("search_path", "s"));
        assertThat(a.signature()).isNotSameAs(b.signature());
        a.resetAll();
        assertThat(a.overrides()).isEqualTo(b.overrides());
        assertThat(a.signature()).isSameAs(b.signature());
        b.unreportedChanged("search_path", null);
        assertThat(a.overrides()).containsEntry("search_path", "s");
        assertThat(b.overrides()).doesNotContainKey("search_path");
    }

    @Test
    void aReportedValueEqualToTheCurrentOneKeepsTheSignature() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("application_name", "app"));
        Object sig = p.signature();
        p.reportedChanged("application_name", "app");
        p.reportedChanged("TimeZone", "UTC");
        assertThat(p.signature()).isSameAs(sig);
    }

    @Test
    void startupValuesEqualToTheServersAreNoOverride() {
        SessionParameters p = new SessionParameters(serverDefaults(),
                map("client_encoding", "UTF8", "datestyle", "ISO, DMY", "search_path", "app"));
        assertThat(p.overrides()).containsOnly(Map.entry("DateStyle", "ISO, DMY"), Map.entry("search_path", "app"));
        assertThat(p.startup()).containsOnlyKeys("client_encoding", "DateStyle", "search_path");
        assertThat(p.reportedValue("DateStyle")).isEqualTo("ISO, DMY");
        assertThat(p.reportedValue("TimeZone")).isEqualTo("UTC");
    }

    @ParameterizedTest
    @CsvSource({"timezone, TimeZone", "TIMEZONE, TimeZone", "DateStyle, DateStyle", "Search_Path, search_path",
        "myapp.X, myapp.x"})
    void canonicalNamesAreTheServersSpellingElseLowerCase(String given, String canonical) {
        assertThat(new SessionParameters(serverDefaults(), Map.of()).canonical(given)).isEqualTo(canonical);
    }

    @Test
    void reportedChangeBackToTheDefaultDropsTheOverride() {
        SessionParameters p = new SessionParameters(serverDefaults(), Map.of());
        p.reportedChanged("TimeZone", "Europe/Paris");
        assertThat(p.overrides()).containsOnly(Map.entry("TimeZone", "Europe/Paris"));
        p.reportedChanged("TimeZone", "UTC");
        assertThat(p.overrides()).isEmpty();
    }

    @Test
    void resetAllReturnsToTheStartupValuesNotTheServersDefaults() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("application_name", "app", "search_path", "s"));
        p.reportedChanged("application_name", "other");
        p.unreportedChanged("search_path", "t");
        p.unreportedChanged("work_mem", "64MB");
        p.resetAll();
        assertThat(p.overrides()).containsOnly(Map.entry("application_name", "app"), Map.entry("search_path", "s"));
    }

    // ---- restoreSql ---------------------------------------------------------------------------

    @Test
    void aFreshBackendForAClientWithoutOverridesNeedsNothing() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("client_encoding", "UTF8"));
        assertThat(p.restoreSql(serverDefaults(), Map.of(), set, reset)).isNull();
        assertThat(set).isEmpty();
        assertThat(reset).isEmpty();
    }

    @Test
    void clientOverridesAreSetOnAFreshBackend() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("application_name", "app"));
        assertThat(p.restoreSql(serverDefaults(), Map.of(), set, reset))
                .isEqualTo("SELECT pg_catalog.set_config('application_name','app',false)");
        assertThat(set).containsExactly("application_name");
        assertThat(reset).isEmpty();
    }

    @Test
    void aReportedValueLeftByAnEarlierClientIsPutBackToTheDefault() {
        SessionParameters p = new SessionParameters(serverDefaults(), Map.of());
        Map<String, String> backend = new HashMap<>(serverDefaults());
        backend.put("TimeZone", "Asia/Tokyo");
        assertThat(p.restoreSql(backend, Map.of(), set, reset))
                .isEqualTo("SELECT pg_catalog.set_config('TimeZone','UTC',false)");
        assertThat(set).containsExactly("TimeZone");
    }

    @Test
    void aReportedValueAlreadyAsTheClientWantsIsLeftAlone() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("TimeZone", "Asia/Tokyo"));
        Map<String, String> backend = new HashMap<>(serverDefaults());
        backend.put("TimeZone", "Asia/Tokyo");
        assertThat(p.restoreSql(backend, Map.of(), set, reset)).isNull();
    }

    @Test
    void aReportedValueDifferentFromBothIsSetOnceToTheClients() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("TimeZone", "Asia/Tokyo"));
        Map<String, String> backend = new HashMap<>(serverDefaults());
        backend.put("TimeZone", "America/Lima");
        assertThat(p.restoreSql(backend, Map.of(), set, reset))
                .isEqualTo("SELECT pg_catalog.set_config('TimeZone','Asia/Tokyo',false)");
        assertThat(set).containsExactly("TimeZone");
    }

    @Test
    void unreportedValuesLeftByAnEarlierClientAreReset() {
        SessionParameters p = new SessionParameters(serverDefaults(), Map.of());
        assertThat(p.restoreSql(serverDefaults(), map("search_path", "x", "work_mem", "1GB"), set, reset))
                .isEqualTo("RESET \"search_path\";RESET \"work_mem\";");
        assertThat(reset).containsExactly("search_path", "work_mem");
        assertThat(set).isEmpty();
    }

    @Test
    void unreportedValuesAreSetWhereTheBackendDiffersAndResetWhereTheClientHasNone() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("search_path", "app", "work_mem", "8MB"));
        String sql = p.restoreSql(serverDefaults(), map("search_path", "other", "work_mem", "8MB", "lock_timeout", "1s"),
                set, reset);
        assertThat(sql).isEqualTo("RESET \"lock_timeout\";SELECT pg_catalog.set_config('search_path','app',false)");
        assertThat(set).containsExactly("search_path");
        assertThat(reset).containsExactly("lock_timeout");
    }

    @Test
    void valuesAreQuotedInTheRestoreSql() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("application_name", "it's a\\b"));
        assertThat(p.restoreSql(serverDefaults(), Map.of(), set, reset))
                .isEqualTo("SELECT pg_catalog.set_config('application_name',E'it''s a\\\\b',false)");
    }

    // ---- fixupSql ------------------------------------------------------------------------------

    @Test
    void resetOfAStartupValuePutsItBackAndUnreportedTouchesAreReadBack() {
        SessionParameters p = new SessionParameters(serverDefaults(), map("search_path", "app"));
        StatementInspector.Findings f = StatementInspector.inspect("RESET search_path; SET work_mem = '1MB'");
        List<String> setNames = new ArrayList<>();
        List<String> readBack = new ArrayList<>();
        assertThat(p.fixupSql(f, setNames, readBack)).isEqualTo(
                "SELECT pg_catalog.set_config('search_path','app',false),"
                        + "pg_catalog.current_setting('search_path',true),pg_catalog.current_setting('work_mem',true)");
        assertThat(setNames).containsExactly("search_path");
        assertThat(readBack).containsExactly("search_path", "work_mem");
    }

    @Test
    void aSetAfterResetAllKeepsItsValueAndIsNotPutBack() {
        SessionParameters p = new SessionParameters(serverDefaults(),
                map("application_name", "app", "search_path", "s", "statement_timeout", "5s"));
        StatementInspector.Findings f = StatementInspector.inspect(
                "RESET ALL; SET Application_Name = 'later'; SET search_path = t");
        List<String> setNames = new ArrayList<>();
        List<String> readBack = new ArrayList<>();
        assertThat(p.fixupSql(f, setNames, readBack)).isEqualTo(
                "SELECT pg_catalog.set_config('statement_timeout','5s',false),"
                        + "pg_catalog.current_setting('search_path',true)");
        assertThat(setNames).containsExactly("statement_timeout");
        assertThat(readBack).containsExactly("search_path");
    }

    @Test
    void resetAllKeepsWhatWasSetSinceAndReturnsTheRestToStartup() {
        SessionParameters p = new SessionParameters(serverDefaults(),
                map("application_name", "app", "TimeZone", "Europe/Paris", "search_path", "s"));
        p.reportedChanged("application_name", "later");
        p.reportedChanged("TimeZone", "UTC"); // the server default: no override
        p.reportedChanged("DateStyle", "German, DMY");
        p.resetAll(java.util.Set.of("APPLICATION_NAME", "timezone"));
        assertThat(p.overrides()).as("application_name and TimeZone as now, the rest as at startup")
                .containsOnly(Map.entry("application_name", "later"), Map.entry("search_path", "s"));
    }

    @Test
    void reportedTouchesNeedNoReadBack() {
        SessionParameters p = new SessionParameters(serverDefaults(), Map.of());
        assertThat(p.fixupSql(StatementInspector.inspect("SET TIME ZONE 'UTC'"), new ArrayList<>(), new ArrayList<>()))
                .isNull();
    }

    // ---- literal / ident -----------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "abc        | 'abc'",
        "''         | ''''''",
        "it's       | 'it''s'",
        "a\\b       | E'a\\\\b'",
        "\\'        | E'\\\\'''",
        "\\         | E'\\\\'",
        "ü;--       | 'ü;--'",
    })
    void literalReadsTheSameWhateverStandardConformingStrings(String value, String literal) {
        assertThat(SessionParameters.literal(value)).isEqualTo(literal);
    }

    @Test
    void literalOfTheEmptyString() {
        assertThat(SessionParameters.literal("")).isEqualTo("''");
    }

    @Test
    void identDoublesQuotes() {
        assertThat(SessionParameters.ident("search_path")).isEqualTo("\"search_path\"");
        assertThat(SessionParameters.ident("a\"b")).isEqualTo("\"a\"\"b\"");
    }

    // ---- parseOptions --------------------------------------------------------------------------

    @Test
    void dashCAndDoubleDashFormsInOrder() {
        assertThat(SessionParameters.parseOptions("-c a=b --c=d -cwork_mem=4MB"))
                .containsExactly(Map.entry("a", "b"), Map.entry("c", "d"), Map.entry("work_mem", "4MB"));
    }

    @Test
    void backslashEscapesASpaceOrABackslash() {
        assertThat(SessionParameters.parseOptions("-c search_path=my\\ schema,public --application_name=a\\\\b"))
                .containsExactly(Map.entry("search_path", "my schema,public"), Map.entry("application_name", "a\\b"));
    }

    @Test
    void dashesInNamesBecomeUnderscoresAndValuesKeepEqualsSigns() {
        assertThat(SessionParameters.parseOptions("--statement-timeout=5s -c myapp.expr=a=b"))
                .containsExactly(Map.entry("statement_timeout", "5s"), Map.entry("myapp.expr", "a=b"));
    }

    @Test
    void extraWhitespaceIsIgnored() {
        assertThat(SessionParameters.parseOptions("  -c\ta=1 \n  -c   b=2  "))
                .containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
        assertThat(SessionParameters.parseOptions("   ")).isEmpty();
    }

    @Test
    void anEmptyValueIsAllowed() {
        assertThat(SessionParameters.parseOptions("-c application_name=")).containsExactly(Map.entry("application_name", ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"foo", "-x", "-c", "-c =x", "-c novalue", "--", "--=x", "-c a=b stray"})
    void anythingElseIsRefusedLikeTheServerWould(String options) {
        assertThatThrownBy(() -> SessionParameters.parseOptions(options)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid command-line argument for server process: ");
    }

    @Test
    void aBackendOfAnotherServerIsNotToldToChangeWhatTheServerOwns() {
        Map<String, String> standby = new LinkedHashMap<>(serverDefaults());
        standby.put("in_hot_standby", "on");
        standby.put("server_version", "17.2");
        SessionParameters p = new SessionParameters(Map.copyOf(standby), map());
        Map<String, String> primary = new LinkedHashMap<>(standby);
        primary.put("in_hot_standby", "off");
        primary.put("server_version", "17.3");
        assertThat(p.needsRestore(primary, Map.of())).isFalse();
        assertThat(p.restoreSql(primary, Map.of(), set, reset)).isNull();
        primary.put("TimeZone", "Europe/Paris");
        assertThat(p.restoreSql(primary, Map.of(), set, reset)).isEqualTo("SELECT pg_catalog.set_config('TimeZone','UTC',false)");
    }
}
