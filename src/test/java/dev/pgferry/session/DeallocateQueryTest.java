package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which statement name a simple Query's {@code DEALLOCATE} drops, read as PostgreSQL's grammar and lexer read it
 * (each case checked against PostgreSQL 15), and what is left to the server.
 */
class DeallocateQueryTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "DEALLOCATE _pg3_0|_pg3_0",
        "deallocate _pg3_0;|_pg3_0",
        "DeAlLoCaTe S_1|s_1",
        "DEALLOCATE PREPARE _pg3_0|_pg3_0",
        "deallocate prepare Foo ;;|foo",
        "DEALLOCATE \"Foo\"|Foo",
        "DEALLOCATE \"a\"\"b\"|a\"b",
        "DEALLOCATE \"a b; c\"|a b; c",
        "DEALLOCATE PREPARE \"Foo\"|Foo",
        "DEALLOCATE \"all\"|all",
        "DEALLOCATE PREPARE \"prepare\"|prepare",
        // PREPARE is an unreserved keyword: alone it is the name, after PREPARE too
        "DEALLOCATE prepare|prepare",
        "DEALLOCATE PREPARE prepare|prepare",
        // column-name keywords are names
        "DEALLOCATE between|between",
        "DEALLOCATE x$1|x$1",
        "DEALLOCATE ünïcode|ünïcode",
        "DEALLOCATE \"ÜNÏ\"|ÜNÏ",
    })
    void readsTheNamePostgresLooksUp(String sql, String name) {
        assertThat(DeallocateQuery.statementName(sql)).isEqualTo(name);
        assertThat(DeallocateQuery.statementName(sql + "\0")).as("with the Query's NUL").isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", ";", "select 1", "DEALLOCATE", "DEALLOCATE;", "DEALLOCATE PREPARE ALL", "deallocate all", "DEALLOCATE ALL;",
        "deallocatex y", "DEALLOCATEx",
        // more than one statement: left to the server (see StatementRouter#deallocate)
        "DEALLOCATE a; DEALLOCATE b", "DEALLOCATE a; select 1", "select 1; DEALLOCATE a",
        // not one name: syntax errors the server words
        "DEALLOCATE a b", "DEALLOCATE x.y", "DEALLOCATE 'x'", "DEALLOCATE $1", "DEALLOCATE 1x", "DEALLOCATE x(",
        "DEALLOCATE x-1", "DEALLOCATE \"\"", "DEALLOCATE \"unterminated", "DEALLOCATE x /* unterminated",
        "DEALLOCATE select", "DEALLOCATE left", "DEALLOCATE verbose", "DEALLOCATE PREPARE select",
        "DEALLOCATE U&\"x\"", "DEALLOCATE u&\"x\"", "DEALLOCATE\"x\"",
        // PostgreSQL truncates a name of 64 bytes or more, with a NOTICE: the server does it
        "DEALLOCATE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "DEALLOCATE \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
        // a vertical tab is no space before PostgreSQL 16
        "DEALLOCATE\u000Bx",
        "PREPARE x AS select 1", "DISCARD ALL", "deallocate_x",
    })
    void leavesEverythingElseToTheServer(String sql) {
        assertThat(DeallocateQuery.statementName(sql)).isNull();
    }

    @Test
    void blanksCommentsAndSemicolonsAroundItAreNothing() {
        assertThat(DeallocateQuery.statementName(
                "  \n\t-- a comment\n DEALLOCATE /* a /* nested */ comment */ x /* after */ -- end")).isEqualTo("x");
        assertThat(DeallocateQuery.statementName("\r\f;DEALLOCATE\nPREPARE--\nx;\n;")).isEqualTo("x");
    }

    @Test
    void aNameOf63BytesIsStillAName() {
        String n = "a".repeat(63);
        assertThat(DeallocateQuery.statementName("DEALLOCATE " + n)).isEqualTo(n);
        assertThat(DeallocateQuery.statementName("DEALLOCATE \"" + n + "\"")).isEqualTo(n);
    }

    @Test
    void readsOnlyItsRangeOfAQueryMessage() {
        byte[] sql = "DEALLOCATE s1\0".getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = Unpooled.buffer().writeByte('Q').writeInt(4 + sql.length).writeBytes(sql).writeBytes("junk".getBytes());
        assertThat(DeallocateQuery.statementName(buf, 5, 5 + sql.length)).isEqualTo("s1");
        assertThat(DeallocateQuery.statementName(buf, 5, 5 + sql.length - 2)).as("cut inside the name").isEqualTo("s");
        buf.release();
    }

    @Test
    void answersTheTagOr25P02InAFailedTransaction() {
        ByteBuf ok = DeallocateQuery.answer(ByteBufAllocator.DEFAULT, (byte) 'T');
        byte[] expected = {'C', 0, 0, 0, 15, 'D', 'E', 'A', 'L', 'L', 'O', 'C', 'A', 'T', 'E', 0, 'Z', 0, 0, 0, 5, 'T'};
        assertThat(io.netty.buffer.ByteBufUtil.getBytes(ok)).isEqualTo(expected);
        ok.release();
        ByteBuf failed = DeallocateQuery.answer(ByteBufAllocator.DEFAULT, (byte) 'E');
        String text = failed.toString(StandardCharsets.UTF_8);
        assertThat(failed.getByte(0)).isEqualTo((byte) 'E');
        assertThat(text).contains("C25P02\0",
                "Mcurrent transaction is aborted, commands ignored until end of transaction block\0")
                .endsWith("Z\0\0\0\5E");
        failed.release();
    }
}
