package dev.pgferry.session.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The lexer on its own: where comments, quotes and words end, as PostgreSQL's scanner reads them. */
class SqlLexerTest {

    private static SqlLexer at(String sql, int from) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        SqlLexer l = new SqlLexer();
        l.reset(b, 0, b.length);
        l.i = from;
        return l;
    }

    private static SqlLexer lexer(String sql) {
        return at(sql, 0);
    }

    /** The rest of the text from the cursor. */
    private static String rest(SqlLexer l) {
        return new String(l.b, l.i, l.end - l.i, StandardCharsets.UTF_8);
    }

    // ---- whitespace and comments -----------------------------------------------------------------

    @Test
    void spacesLineCommentsAndBlockCommentsAreSkipped() {
        SqlLexer l = lexer(" \t\r\n\f-- one\n/* two */ x");
        l.skipSpaceAndComments();
        assertThat(rest(l)).isEqualTo("x");
    }

    @Test
    void blockCommentsNest() {
        SqlLexer l = lexer("/* a /* b */ still comment */x");
        l.skipSpaceAndComments();
        assertThat(rest(l)).isEqualTo("x");
        l = lexer("/* a /* b */ c */ /**/ /***/ y");
        l.skipSpaceAndComments();
        assertThat(rest(l)).isEqualTo("y");
    }

    @Test
    void unterminatedCommentsRunToTheEnd() {
        SqlLexer l = lexer("/* a /* b */ c");
        l.skipSpaceAndComments();
        assertThat(l.position()).isEqualTo(l.end());
        l = lexer("-- no newline");
        l.skipSpaceAndComments();
        assertThat(l.position()).isEqualTo(l.end());
    }

    @Test
    void aLoneDashOrSlashIsNotAComment() {
        SqlLexer l = lexer("- 1");
        l.skipSpaceAndComments();
        assertThat(l.position()).isZero();
        assertThat(lexer("/ 2").spaceAndCommentsEnd(0)).isZero();
    }

    @Test
    void spaceAndCommentsEndLeavesTheCursor() {
        SqlLexer l = lexer("x ( /* c */ 'a'");
        assertThat(l.spaceAndCommentsEnd(3)).isEqualTo(12);
        assertThat(l.position()).isZero();
    }

    // ---- quoted literals and identifiers ---------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "'plain' x            | ' x",
        "'it''s' x            | ' x",
        "'''' x               | ' x",
        "'a\\' x              | ' x",  // standard_conforming_strings on: a backslash is an ordinary character
        "'; LISTEN y; --' x   | ' x",
    })
    void aPlainLiteralEndsAtItsClosingQuote(String sql, String restAfter) {
        SqlLexer l = lexer(sql.strip());
        l.skipQuoted((byte) '\'', false);
        assertThat(rest(l)).isEqualTo(restAfter.substring(1));
    }

    @Test
    void anEscapeStringSkipsBackslashEscapes() {
        SqlLexer l = at("E'a\\'b\\\\' x", 1);
        assertThat(l.opensEscapeString(1)).isTrue();
        l.skipQuoted((byte) '\'', true);
        assertThat(rest(l)).isEqualTo(" x");
        l = at("e'it''s \\n' y", 1);
        l.skipQuoted((byte) '\'', true);
        assertThat(rest(l)).isEqualTo(" y");
    }

    @Test
    void onlyALoneEMakesAnEscapeString() {
        assertThat(lexer("E'x'").opensEscapeString(1)).isTrue();
        assertThat(lexer("(e'x')").opensEscapeString(2)).isTrue();
        assertThat(lexer("select e'x'").opensEscapeString(8)).isTrue();
        assertThat(lexer("type'x'").opensEscapeString(4)).as("a type name ending in e").isFalse();
        assertThat(lexer("'x'").opensEscapeString(0)).isFalse();
        SqlLexer l = new SqlLexer();
        byte[] b = "E'x'".getBytes(StandardCharsets.US_ASCII);
        l.reset(b, 1, b.length);
        assertThat(l.opensEscapeString(1)).as("the E is before the text's start").isFalse();
    }

    @Test
    void standardConformingStringsOffIsNotModelled() {
        // with standard_conforming_strings = off, PostgreSQL reads 'a\'; LISTEN x; --' as one literal; the lexer
        // reads it as on (the default since 9.1): the literal ends after the backslash
        SqlLexer l = lexer("'a\\'; LISTEN x; --'");
        l.skipQuoted((byte) '\'', false);
        assertThat(rest(l)).isEqualTo("; LISTEN x; --'");
    }

    @Test
    void quotedIdentifiersEndAtTheClosingDoubleQuote() {
        SqlLexer l = lexer("\"a \"\"b\"\" ;\" x");
        l.skipQuoted((byte) '"', false);
        assertThat(rest(l)).isEqualTo(" x");
    }

    @Test
    void unterminatedQuotesRunToTheEnd() {
        SqlLexer l = lexer("'abc");
        l.skipQuoted((byte) '\'', false);
        assertThat(l.position()).isEqualTo(l.end());
        l = at("E'abc\\", 1);
        l.skipQuoted((byte) '\'', true);
        assertThat(l.position()).isGreaterThanOrEqualTo(l.end());
    }

    // ---- dollar quotes ---------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "$$ a ' b $$ x                       | ' x'",
        "$tag$ $$ inner $$ $tag$ x           | ' x'",
        "$a$ $b$ $a$x                        | x",
        "$_1$ $_1 $_1$ x                     | ' x'",
        "$ü$ text $ü$ x                      | ' x'",
    })
    void aDollarQuoteEndsAtItsOwnTag(String sql, String restAfter) {
        SqlLexer l = lexer(sql);
        assertThat(l.skipDollarQuote()).isTrue();
        assertThat(rest(l)).isEqualTo(unquote(restAfter));
    }

    @Test
    void notEveryDollarOpensAQuote() {
        assertThat(lexer("$1 + $2").skipDollarQuote()).as("a parameter").isFalse();
        assertThat(lexer("$1$ x $1$").skipDollarQuote()).as("a tag cannot start with a digit").isFalse();
        assertThat(lexer("$ x").skipDollarQuote()).isFalse();
        SqlLexer l = at("a$b$ c $b$", 1);
        assertThat(l.skipDollarQuote()).as("part of the identifier a$b$").isFalse();
        assertThat(l.position()).isEqualTo(1);
    }

    @Test
    void anUnterminatedDollarQuoteRunsToTheEnd() {
        SqlLexer l = lexer("$x$ never closed $y$");
        assertThat(l.skipDollarQuote()).isTrue();
        assertThat(l.position()).isEqualTo(l.end());
    }

    @Test
    void skipQuoteOrCommentSkipsOneSuchTokenOrNothing() {
        SqlLexer l = lexer("'a;b' x");
        assertThat(l.skipQuoteOrComment()).isTrue();
        assertThat(rest(l)).isEqualTo(" x");
        l = at("E'\\'' x", 1);
        assertThat(l.skipQuoteOrComment()).isTrue();
        assertThat(rest(l)).isEqualTo(" x");
        l = lexer("\"a;\" x");
        assertThat(l.skipQuoteOrComment()).isTrue();
        assertThat(rest(l)).isEqualTo(" x");
        l = lexer("$q$;$q$x");
        assertThat(l.skipQuoteOrComment()).isTrue();
        assertThat(rest(l)).isEqualTo("x");
        l = lexer("/* ; */ -- ;\n x");
        assertThat(l.skipQuoteOrComment()).isTrue();
        assertThat(rest(l)).isEqualTo("x");
        for (String none : new String[] {"- 1", "/ 2", "$1", "x", ";"}) {
            l = lexer(none);
            assertThat(l.skipQuoteOrComment()).as(none).isFalse();
            assertThat(l.position()).as(none).isZero();
        }
    }

    // ---- words -----------------------------------------------------------------------------------

    @Test
    void wordsAreLettersDigitsUnderscoresAndDollarsAfterTheFirst() {
        SqlLexer l = lexer("a1_$b+c");
        assertThat(l.wordEnd(0)).isEqualTo(5);
        assertThat(l.wordEnd(5)).isEqualTo(5);
        assertThat(lexer("1abc").wordEnd(0)).as("a number is no word").isZero();
        assertThat(lexer("$abc").wordEnd(0)).isZero();
        assertThat(lexer("tä ble").wordEnd(0)).as("UTF-8 letters").isEqualTo(3);
    }

    @Test
    void keywordsCompareIgnoringCaseOfLettersOnly() {
        SqlLexer l = lexer("SeLeCt set_config SET\u007Fconfig");
        assertThat(l.is(0, 6, "select")).isTrue();
        assertThat(l.is(0, 6, "selec")).isFalse();
        assertThat(l.is(7, 17, "set_config")).isTrue();
        assertThat(l.is(18, 28, "set_config")).as("DEL is not '_'").isFalse();
    }

    @Test
    void nextWordLowerCasesBareWordsAndKeepsQuotedOnes() {
        SqlLexer l = lexer("  /* c */ SET \"Search Path\" = x.y");
        assertThat(l.nextWord()).isEqualTo("set");
        assertThat(l.nextWord()).isEqualTo("Search Path");
        assertThat(l.nextWord()).as("'=' is no word").isNull();
        assertThat(rest(l)).isEqualTo("= x.y");
        assertThat(lexer("\"open").nextWord()).isNull();
    }

    // ---- literal bodies --------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "'BEGIN SET a = 1; END' rest        | BEGIN SET a = 1; END | ' rest'",
        "E'x\\'y' rest                      | x\\'y               | ' rest'",
        "$$body$$ rest                      | body                 | ' rest'",
        "$q$ a $$ b $q$ rest                | ' a $$ b '           | ' rest'",
        "'unterminated                      | unterminated         | ''",
    })
    void aLiteralsBodyIsItsTextBetweenTheQuotes(String sql, String body, String restAfter) {
        SqlLexer l = lexer(sql.strip());
        int[] range = l.literalBody();
        assertThat(range).isNotNull();
        assertThat(new String(l.b, range[0], range[1] - range[0], StandardCharsets.UTF_8)).isEqualTo(unquote(body));
        assertThat(rest(l)).isEqualTo(unquote(restAfter));
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("'") && s.endsWith("'") ? s.substring(1, s.length() - 1) : s;
    }

    @Test
    void noLiteralNoBody() {
        SqlLexer l = lexer("format('x')");
        assertThat(l.literalBody()).isNull();
        assertThat(l.position()).isZero();
        assertThat(lexer("$1").literalBody()).isNull();
    }
}
