package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What the lexer finds in the SQL of a Query or Parse: parameter changes, resets, and what pins a session. */
class StatementInspectorTest {

    /**
     * Every input of these tests also checks the cache: a text's findings, fresh from the rules, equal those of the
     * cached paths, on the miss that fills the cache and on the hits after it.
     */
    private static StatementInspector.Findings inspect(String sql) {
        InspectionCacheTest.assertCachedEqualsFresh(sql);
        return StatementInspector.inspect(sql);
    }

    private static String pinOf(String sql) {
        return found(inspect(sql));
    }

    /**
     * What pins, or {@code LISTEN} for a LISTEN, which is tracked rather than pinned (pgferry.pool.listen=fanout): the
     * lexer found it either way, which is what most tests here check.
     */
    private static String found(StatementInspector.Findings f) {
        if (f == null) {
            return null;
        }
        return f.pinReason == null && f.listens() ? "LISTEN" : f.pinReason;
    }

    // ---- nothing to see -------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
        "", " ", ";", ";;", "select 1", "SELECT * FROM t WHERE a = 1", "insert into t values (1)",
        "BEGIN", "COMMIT", "show search_path", "UPDATE settings SET value = 1",
        "select pg_advisory_xact_lock(1)", "select pg_try_advisory_xact_lock(1)", "select pg_advisory_unlock_all()",
        "discard plans", "DISCARD TEMP", "prepare transaction 'x'", "PREPARE TRANSACTION 'gid'",
        "create table t (x int)", "create unlogged table t (x int)", "create index on t (x)",
        "DECLARE c CURSOR FOR SELECT 1", "declare c no scroll cursor without hold for select 1",
        "notify ch, 'x'", "select pg_notify('ch', 'x')",
    })
    void ordinaryStatementsFindNothing(String sql) {
        assertThat(inspect(sql)).isNull();
    }

    // ---- SET / RESET -----------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "SET search_path = foo                         | search_path",
        "set search_path to foo, bar                   | search_path",
        "SET SESSION search_path TO foo                | search_path",
        "SET statement_timeout = '5s'                  | statement_timeout",
        "set myapp.tenant = 42                         | myapp.tenant",
        "SET TIME ZONE 'UTC'                           | timezone",
        "SET NAMES 'UTF8'                              | client_encoding",
        "SET SCHEMA 'app'                              | search_path",
        "SET XML OPTION DOCUMENT                       | xmloption",
        "SET \"search_path\" = x                       | search_path",
        "(SET search_path = foo)                       | search_path",
        // a DO block's statements run in the session
        "DO $$ BEGIN SET search_path = app; END $$                                    | search_path",
        "do $body$begin set statement_timeout = '5s'; end$body$                       | statement_timeout",
        "DO LANGUAGE plpgsql $$ BEGIN IF true THEN SET lock_timeout = 1; END IF; END $$ | lock_timeout",
        "DO $$ BEGIN FOR i IN 1..2 LOOP SET myapp.n = 1; END LOOP; END $$             | myapp.n",
        "DO $$ DECLARE x int := 1; BEGIN SET search_path = x; END $$                  | search_path",
        "DO 'BEGIN SET search_path = app; END'                                        | search_path",
        "DO E'BEGIN SET search_path = app; END'                                       | search_path",
        "DO $$ BEGIN SET search_path = app; END $$ LANGUAGE plpgsql                   | search_path",
        "DO $$ BEGIN EXECUTE 'SET search_path = app'; END $$                          | search_path",
        "DO $$ BEGIN EXECUTE $x$SET timezone = 'UTC'$x$; END $$                       | timezone",
    })
    void sessionSetTouchesTheParameter(String sql, String name) {
        StatementInspector.Findings f = inspect(sql);
        assertThat(f).isNotNull();
        assertThat(f.touched).containsExactly(name);
        assertThat(f.resetNames).isEmpty();
        assertThat(f.resetAll).isFalse();
        assertThat(f.pinReason).isNull();
    }

    @Test
    void setAfterCommentsIsSeen() {
        assertThat(inspect("  /* hint */ SET -- note\n application_name = 'a'").touched)
                .containsExactly("application_name");
    }

    @Test
    void setSessionCharacteristicsTouchesTheThreeTransactionDefaults() {
        assertThat(inspect("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE").touched)
                .containsExactly("default_transaction_isolation", "default_transaction_read_only",
                        "default_transaction_deferrable");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SET LOCAL search_path = foo", "set local statement_timeout = 0", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "set transaction read only",
    })
    void transactionScopedSetFindsNothing(String sql) {
        assertThat(inspect(sql)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET DateStyle TO DEFAULT", "set datestyle = default", "SET SESSION DateStyle TO DEFAULT ",
        "set datestyle to /* c */ default;"})
    void setToDefaultIsAReset(String sql) {
        StatementInspector.Findings f = inspect(sql);
        assertThat(f.resetNames).containsExactly("datestyle");
        assertThat(f.resetsAny()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET DateStyle TO \"default\"", "set datestyle = 'default'", "set datestyle to default_x"})
    void setToAValueNamedDefaultIsASet(String sql) {
        StatementInspector.Findings f = inspect(sql);
        assertThat(f.resetNames).isEmpty();
        assertThat(f.touched).containsExactly("datestyle");
    }

    @Test
    void setTimeZoneDefaultOrLocalIsAReset() {
        assertThat(inspect("SET TIME ZONE DEFAULT").resetNames).containsExactly("timezone");
        assertThat(inspect("set time zone local").resetNames).containsExactly("timezone");
        assertThat(inspect("set time zone 'UTC'").resetNames).isEmpty();
    }

    @Test
    void setLocalToDefaultIsOnlyNoted() {
        StatementInspector.Findings f = inspect("SET LOCAL DateStyle TO DEFAULT");
        assertThat(f.touched).isEmpty();
        assertThat(f.localReset).isTrue();
        assertThat(f.resetsAny()).isTrue();
        assertThat(inspect("SET LOCAL DateStyle TO 'ISO'")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET CONSTRAINTS ALL DEFERRED", "set constraints fk_a, fk_b immediate"})
    void setConstraintsIsTransactionScopedAndTouchesNoParameter(String sql) {
        assertThat(inspect(sql)).isNull();
    }

    @Test
    void resetOneParameter() {
        StatementInspector.Findings f = inspect("RESET search_path");
        assertThat(f.touched).containsExactly("search_path");
        assertThat(f.resetNames).containsExactly("search_path");
        assertThat(f.resetAll).isFalse();
        assertThat(inspect("reset time zone").resetNames).containsExactly("timezone");
        assertThat(inspect("RESET myapp.tenant").resetNames).containsExactly("myapp.tenant");
    }

    @Test
    void theLastOfSetAndResetInAQueryWins() {
        StatementInspector.Findings f = inspect("RESET a; SET a = 1");
        assertThat(f.touched).containsExactly("a");
        assertThat(f.resetNames).isEmpty();
        assertThat(inspect("SET a = 1; RESET a").resetNames).containsExactly("a");
        f = inspect("SET b = 1; RESET ALL; SET a = 1");
        assertThat(f.resetAll).isTrue();
        assertThat(f.setAfterResetAll).containsExactly("a");
        assertThat(f.touched).containsExactly("b", "a");
        f = inspect("RESET ALL; SET a = 1; RESET a");
        assertThat(f.setAfterResetAll).isEmpty();
        assertThat(f.resetNames).containsExactly("a");
        f = inspect("SET a = 1; RESET b; DISCARD ALL");
        assertThat(f.resetAll).isTrue();
        assertThat(f.setAfterResetAll).isEmpty();
        assertThat(f.resetNames).isEmpty();
    }

    @Test
    void findingsOfALaterMessageComeAfterThoseBefore() {
        StatementInspector.Findings f = inspect("RESET a");
        f.add(inspect("SET a = 2"));
        assertThat(f.resetNames).isEmpty();
        assertThat(f.touched).containsExactly("a");

        f = inspect("SET a = 2");
        f.add(inspect("RESET a"));
        assertThat(f.resetNames).containsExactly("a");

        f = inspect("SET b = 1");
        f.add(inspect("RESET ALL"));
        assertThat(f.resetAll).isTrue();
        assertThat(f.setAfterResetAll).isEmpty();
        assertThat(f.touched).containsExactly("b");

        f = inspect("RESET ALL");
        f.add(inspect("SET c = 1"));
        assertThat(f.setAfterResetAll).containsExactly("c");

        f = inspect("SET c = 1; RESET ALL; SET d = 1; RESET x");
        f.add(inspect("SET e = 1; RESET ALL; SET f = 1"));
        assertThat(f.setAfterResetAll).as("only what followed the last RESET ALL").containsExactly("f");
        assertThat(f.resetNames).isEmpty();
        assertThat(f.touched).contains("c", "d", "x", "e", "f");

        f = inspect("RESET ALL; SET d = 1");
        f.add(inspect("SET e = 1; RESET d"));
        assertThat(f.setAfterResetAll).containsExactly("e");
        assertThat(f.resetNames).containsExactly("d");
    }

    @ParameterizedTest
    @ValueSource(strings = {"RESET ALL", "reset all;", "DISCARD ALL", "discard all"})
    void resetAllAndDiscardAllResetEverything(String sql) {
        StatementInspector.Findings f = inspect(sql);
        assertThat(f.resetAll).isTrue();
        assertThat(f.pinReason).isNull();
    }

    // ---- pins -------------------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "PREPARE q AS SELECT 1                                    | SQL PREPARE",
        "prepare q(int) as select $1                              | SQL PREPARE",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1                  | DECLARE ... WITH HOLD",
        "declare c binary insensitive scroll cursor with hold for select 1 | DECLARE ... WITH HOLD",
        "CREATE TEMP TABLE t (x int)                              | temporary table",
        "create temporary table t as select 1                     | temporary table",
        "CREATE GLOBAL TEMPORARY TABLE t (x int)                  | temporary table",
        "CREATE LOCAL TEMP TABLE t (x int)                        | temporary table",
        "create temp sequence s                                   | temporary table",
        "LOAD 'auto_explain'                                      | LOAD",
        "SET ROLE admin                                           | SET ROLE",
        "SET SESSION ROLE admin                                   | SET ROLE",
        "SET SESSION AUTHORIZATION bob                            | SET SESSION AUTHORIZATION",
        "RESET ROLE                                               | RESET ROLE/SESSION AUTHORIZATION",
        "RESET SESSION AUTHORIZATION                              | RESET ROLE/SESSION AUTHORIZATION",
        "DO $$ BEGIN PERFORM set_config('search_path', 'app', false); END $$        | set_config()",
        "DO $$ BEGIN PERFORM pg_advisory_lock(1); END $$                            | session advisory lock",
        "DO $$ BEGIN CREATE TEMP TABLE t (x int); END $$                            | temporary table",
        "DO $$ BEGIN EXECUTE format('SET search_path = %I', 'app'); END $$           | dynamic SQL in a DO block",
        "DO $$ DECLARE s text := 'app'; BEGIN EXECUTE 'SET search_path = ' || s; END $$ | dynamic SQL in a DO block",
        "DO $$ DECLARE q text := 'LISTEN x'; BEGIN EXECUTE q; END $$                | dynamic SQL in a DO block",
    })
    void sessionStateThatCannotMoveBetweenBackendsPins(String sql, String reason) {
        assertThat(pinOf(sql)).isEqualTo(reason);
    }

    /** LISTEN and UNLISTEN do not pin: they are tracked, in order, with the channel as PostgreSQL names it. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "LISTEN ch                                      | +ch",
        "listen \"Chan\"                                | +Chan",
        "LISTEN MyChan                                  | +mychan",
        "listen \"a\"\"b\"                              | +a\"b",
        "unlisten *                                     | *",
        "UNLISTEN ch                                    | -ch",
        "LISTEN a; UNLISTEN a; LISTEN b                 | +a -a +b",
        "DISCARD ALL                                    | *",
        "DO $$ BEGIN LISTEN ch; END $$                  | +ch",
        "DO $$ BEGIN EXECUTE 'LISTEN ch'; END $$        | +ch",
    })
    void listenAndUnlistenAreTrackedNotPinned(String sql, String ops) {
        StatementInspector.Findings f = inspect(sql);
        assertThat(f.pinReason).as(sql).isNull();
        assertThat(String.join(" ", f.listenOps)).as(sql).isEqualTo(ops);
    }

    @Test
    void aChannelNameIsTruncatedAsPostgresTruncatesIdentifiers() {
        String longName = "c".repeat(70);
        assertThat(inspect("LISTEN " + longName).listenOps).containsExactly("+" + "c".repeat(63));
        // 63 bytes would split a two-byte character: 62 are kept, as pg_mbcliplen keeps whole characters
        assertThat(inspect("LISTEN \"" + "é".repeat(40) + "\"").listenOps).containsExactly("+" + "é".repeat(31));
    }

    @ParameterizedTest
    @ValueSource(strings = {"LISTEN U&\"d\\0061t\"", "LISTEN", "UNLISTEN \"\""})
    void aChannelNameReadOtherwiseIsLeftToTheServerAndPins(String sql) {
        assertThat(pinOf(sql)).as(sql).isEqualTo("LISTEN");
        assertThat(inspect(sql).listenOps).as(sql).isNull();
    }

    @Test
    void pgListeningChannelsIsSeen() {
        StatementInspector.Findings f = inspect("select * from pg_listening_channels()");
        assertThat(f.readsListening).isTrue();
        assertThat(f.pinReason).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "CREATE OR REPLACE TEMP VIEW v AS SELECT 1", "create or replace temporary view v as select 1",
    })
    void createOrReplaceTempViewPins(String sql) {
        assertThat(pinOf(sql)).isEqualTo("temporary table");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "select pg_advisory_lock(1)", "SELECT pg_advisory_lock(1, 2)", "SELECT PG_ADVISORY_LOCK(1)",
        "select pg_advisory_lock_shared(1)", "select pg_try_advisory_lock(1)", "select pg_try_advisory_lock_shared(1)",
        "select pg_catalog.pg_advisory_lock(1)", "with l as (select pg_advisory_lock(7)) select * from l",
        "select 1; select pg_advisory_lock(1)",
    })
    void sessionAdvisoryLocksPin(String sql) {
        assertThat(pinOf(sql)).isEqualTo("session advisory lock");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "select set_config('search_path', 'x', false)", "SELECT SET_CONFIG('a.b', 'c', false)",
        "select pg_catalog.set_config('a.b','c',false)",
    })
    void setConfigPins(String sql) {
        assertThat(pinOf(sql)).isEqualTo("set_config()");
    }

    /** Each transaction end in a query string starts a link for what follows; pins stay on the first. */
    @Test
    void transactionEndsInAQueryStringLinkWhatFollows() {
        StatementInspector.Findings f = inspect(
                "SET a = 1; COMMIT; RESET b; ROLLBACK TO SAVEPOINT s; END; ROLLBACK PREPARED 'x'; ABORT; LISTEN c; SET d = 2");
        assertThat(f.touched).containsExactly("a");
        assertThat(f.pinReason).isNull();
        assertThat(f.listenOps).isNull(); // the LISTEN is after the ABORT: the last transaction's
        StatementInspector.Findings b = f.next;
        assertThat(b.endedBy).isEqualTo(StatementInspector.Findings.COMMIT);
        assertThat(b.resetNames).containsExactly("b");
        assertThat(b.next.endedBy).isEqualTo(StatementInspector.Findings.ROLLBACK_TO);
        assertThat(b.next.touched).isEmpty();
        assertThat(b.next.next.endedBy).isEqualTo(StatementInspector.Findings.COMMIT);
        StatementInspector.Findings d = b.next.next.next;
        assertThat(d.endedBy).isEqualTo(StatementInspector.Findings.ROLLBACK);
        assertThat(d.touched).containsExactly("d");
        assertThat(d.listenOps).containsExactly("+c");
        assertThat(d.next).isNull();
        assertThat(inspect("COMMIT")).isNull();
        // a transaction end after the last finding gets its (empty) link too: its tag settles or dooms what ran
        // before it, as a ROLLBACK in a query string rolls back the statements before it
        assertThat(inspect("SET a = 1; COMMIT").next.endedBy).isEqualTo(StatementInspector.Findings.COMMIT);
        StatementInspector.Findings r = inspect("insert into t values (1); RESET ALL; ROLLBACK");
        assertThat(r.resetAll).isTrue();
        assertThat(r.next.endedBy).isEqualTo(StatementInspector.Findings.ROLLBACK);
        assertThat(r.next.touched).isEmpty();
        assertThat(r.next.next).isNull();
    }

    /** A session-wide set_config() of a literal name counts as a SET of it too (a RESET ALL fixup leaves it be). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "select set_config('search_path', 'x', false)                            | search_path",
        "SELECT SET_CONFIG( 'Work_Mem' , lower('1MB', 'x'), FALSE )              | work_mem",
        "RESET ALL; DO $$BEGIN PERFORM set_config('extra_float_digits', '0', false); END$$ | extra_float_digits",
    })
    void setConfigOfALiteralNameIsASetOfIt(String sql, String name) {
        StatementInspector.Findings f = inspect(sql);
        assertThat(f.touched).contains(name);
        assertThat(f.resetNames).doesNotContain(name);
        if (f.resetAll) {
            assertThat(f.setAfterResetAll).containsExactly(name);
        }
    }

    @Test
    void setConfigMayHaveCommentsBetweenItsArguments() {
        StatementInspector.Findings f =
                inspect("select set_config /* c */ (-- c\n 'lock_timeout' /* c */, '1s',\f/* c */ false)");
        assertThat(f.pinReason).isEqualTo("set_config()");
        assertThat(f.touched).containsExactly("lock_timeout");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "select set_config('search_path', 'x', true)", "select set_config(name, 'x', false) from t",
        "select set_config('it''s', 'x', false)", "select set_config('a', 'x')",
    })
    void setConfigOfAnotherFormOnlyPins(String sql) {
        assertThat(inspect(sql).touched).isEmpty();
    }

    @Test
    void transactionAdvisoryLocksDoNotPin() {
        assertThat(inspect("select pg_advisory_xact_lock(1), pg_advisory_xact_lock_shared(2)")).isNull();
        assertThat(inspect("select pg_advisory_lock_status")).isNull();
    }

    // ---- quoting, comments, several statements -----------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
        "select 'SET search_path = x'",
        "select 'x; LISTEN y'",
        "select 'pg_advisory_lock(1)'",
        "select 'it''s; LISTEN y'",
        "select E'it\\'s; LISTEN y'",
        "select e'\\\\'' ; LISTEN y'",
        "select $$; LISTEN y; select pg_advisory_lock(1)$$",
        "select $tag$ $$ ; LISTEN y $tag$",
        "select $a$ x $b$ ; LISTEN y $a$",
        "select \"LISTEN; x\" from t",
        "select \"a\"\"; LISTEN y\" from t",
        "select 1 -- ; LISTEN y",
        "select 1 /* ; LISTEN y */",
        "select 1 /* outer /* inner */ ; LISTEN y */",
        "-- LISTEN y\nselect 1",
        "/* SET search_path = x */ select 1",
        "select a$b from t -- ;LISTEN",
        "select $1::text",
        "select 'a' -- ' ; LISTEN y",
    })
    void keywordsInsideLiteralsIdentifiersAndCommentsFindNothing(String sql) {
        assertThat(inspect(sql)).as(sql).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "select 1; LISTEN y",
        "select 'a;b'; LISTEN y",
        "select $$a;b$$; LISTEN y",
        "select $t$ $$ $t$; LISTEN y",
        "select 1 /* c */; LISTEN y",
        "select 1 -- c\n; LISTEN y",
        // standard_conforming_strings: a backslash does not escape in a plain literal
        "select 'a\\'; LISTEN y; --'",
        "select E'a\\\\'; LISTEN y",
        "select \"q\"\"\"; LISTEN y",
        "select $1; LISTEN y",
    })
    void aStatementAfterTheLiteralEndsIsSeen(String sql) {
        assertThat(pinOf(sql)).as(sql).isEqualTo("LISTEN");
    }

    @Test
    void severalStatementsAreMerged() {
        StatementInspector.Findings f = inspect("SET a.b = 1; select 2; RESET c; set search_path = 'x;y'");
        assertThat(f.touched).containsExactly("a.b", "c", "search_path");
        assertThat(f.resetNames).containsExactly("c");
        assertThat(f.pinReason).isNull();
    }

    @Test
    void theFirstPinReasonIsKept() {
        assertThat(pinOf("CREATE TEMP TABLE t (x int); PREPARE p AS SELECT 1")).isEqualTo("temporary table");
    }

    @Test
    void findingsOfLaterMessagesMerge() {
        StatementInspector.Findings f = inspect("SET a = 1");
        f.add(inspect("LISTEN x"));
        f.add(inspect("RESET ALL"));
        f.add(inspect("PREPARE p AS SELECT 1"));
        assertThat(f.touched).containsExactly("a");
        assertThat(f.pinReason).isEqualTo("SQL PREPARE");
        assertThat(f.listenOps).containsExactly("+x");
        assertThat(f.resetAll).isTrue();
    }

    @Test
    void inspectsOnlyTheGivenRangeAndStopsAtTheNulTerminator() {
        byte[] sql = "XXXXXLISTEN ch\0SET a = 1".getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.wrappedBuffer(sql);
        assertThat(found(StatementInspector.inspect(b, 5, sql.length))).isEqualTo("LISTEN");
        assertThat(StatementInspector.inspect(b, 5, sql.length).touched).isEmpty();
        assertThat(StatementInspector.inspect(b, 0, 14)).isNull(); // "XXXXXLISTEN ch": one word, not LISTEN
        assertThat(StatementInspector.inspect(b, 5, 10)).isNull(); // "LISTE"
    }

    @Test
    void byteBeforeTheRangeDoesNotMakeALiteralAnEscapeString() {
        // a Query whose length byte happens to be 'E' (0x45) right before SQL that is a literal
        byte[] bytes = "E'\\'; LISTEN y; --'".getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.wrappedBuffer(bytes);
        // without the E the literal is '\' and LISTEN y is a statement of its own
        assertThat(found(StatementInspector.inspect(b, 1, bytes.length))).isEqualTo("LISTEN");
    }

    @Test
    void unterminatedLiteralsAndCommentsEndTheScanQuietly() {
        assertThat(inspect("select 'abc")).isNull();
        assertThat(inspect("select $$abc")).isNull();
        assertThat(inspect("select \"abc")).isNull();
        assertThat(inspect("select 1 /* abc")).isNull();
        assertThat(inspect("SET")).isNull();
        assertThat(inspect("RESET")).isNull();
        assertThat(inspect("SET SESSION")).isNull();
        assertThat(inspect("DECLARE")).isNull();
        assertThat(inspect("CREATE")).isNull();
    }

    @Test
    void nonAsciiTextIsHarmless() {
        assertThat(inspect("select 'ünïcödé; LISTEN x' as ß from täble")).isNull();
        assertThat(inspect("SET application_name = 'ß'").touched).containsExactly("application_name");
    }

    // ---- DO blocks -------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
        "DO $$ BEGIN UPDATE t SET x = 1; END $$",
        "DO $$ BEGIN INSERT INTO t VALUES (1) ON CONFLICT (x) DO UPDATE SET x = 2; END $$",
        "DO $$ BEGIN SET LOCAL search_path = app; END $$",
        "DO $$ BEGIN EXECUTE 'CREATE TABLE t (x int)'; END $$",
        "DO $$ BEGIN EXECUTE 'select 1' INTO STRICT x; END $$",
        "DO $$ BEGIN RAISE NOTICE 'SET search_path = x; LISTEN y'; END $$",
        "DO $$ BEGIN NULL; END", // unterminated body: the server will say so
        "select 'DO $$ BEGIN SET search_path = x; END $$'",
    })
    void doBlocksThatTouchNoSessionStateFindNothing(String sql) {
        // a DO block may load its language's handler (see loadsLibrary), nothing more
        StatementInspector.Findings f = inspect(sql);
        if (f != null) {
            assertThat(f.loadsLibrary).as(sql).isTrue();
            assertThat(f.pinReason).as(sql).isNull();
            assertThat(f.touched).as(sql).isEmpty();
            assertThat(f.resetAll).as(sql).isFalse();
            assertThat(f.dropsPrepared).as(sql).isFalse();
        }
        assertThat(f != null).as(sql).isEqualTo(sql.startsWith("DO"));
    }

    @Test
    void resetInsideADoBlockIsTracked() {
        StatementInspector.Findings f =
                inspect("DO $$ BEGIN IF false THEN NULL; ELSE RESET work_mem; END IF; END $$");
        assertThat(f.resetNames).containsExactly("work_mem");
    }

    @Test
    void nestedDynamicSqlIsFollowedAFewLevelsThenPins() {
        assertThat(inspect("DO $a$ BEGIN EXECUTE $b$DO $c$ BEGIN SET search_path = x; END $c$$b$; END $a$").touched)
                .containsExactly("search_path");
        StringBuilder sql = new StringBuilder("SET search_path = x");
        for (int n = 0; n < 10; n++) {
            sql = new StringBuilder("DO $t" + n + "$ BEGIN EXECUTE $e" + n + "$").append(sql)
                    .append("$e" + n + "$; END $t" + n + "$");
        }
        assertThat(pinOf(sql.toString())).isEqualTo("deeply nested dynamic SQL");
    }

    @Test
    void aDoBlockDoesNotHideTheStatementsAfterIt() {
        StatementInspector.Findings f = inspect("DO $$ BEGIN NULL; END $$; SET search_path = y; LISTEN z");
        assertThat(f.touched).containsExactly("search_path");
        assertThat(found(f)).isEqualTo("LISTEN");
    }

    // ---- libraries ---------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
        "LOAD 'plpgsql'", "load 'auto_explain'", "DO $$ BEGIN NULL; END $$", "do language plpgsql 'begin null; end'",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'",
        "create or replace function f() returns int as $$begin return 1; end$$ language plpgsql",
        "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN NULL; END $$", "select 1; LOAD 'x'",
    })
    void statementsThatMayLoadALibraryAreSeen(String sql) {
        assertThat(inspect(sql).loadsLibrary).as(sql).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET search_path = x", "create temp table t (n int)", "LISTEN x",
        "create temp view v as select 1"})
    void otherStatementsLoadNoLibrary(String sql) {
        assertThat(inspect(sql).loadsLibrary).as(sql).isFalse();
    }
}
