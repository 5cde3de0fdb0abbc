package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What pgferry inserts after a RESET of a startup parameter in a query string, and how it reads the answer. */
class ResetToStartupTest {

    private static SessionParameters params(String... startup) {
        Map<String, String> defaults = Map.of("DateStyle", "ISO, MDY", "TimeZone", "UTC", "client_encoding", "UTF8",
                "application_name", "");
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < startup.length; i += 2) {
            m.put(startup[i], startup[i + 1]);
        }
        return new SessionParameters(defaults, m);
    }

    private static final SessionParameters CLIENT = params("DateStyle", "SQL, DMY", "work_mem", "256kB");

    private static String sent(String sql) {
        ResetPlan plan = ResetToStartup.plan(sql, CLIENT, false);
        return plan == null ? null : new String(plan.text, StandardCharsets.UTF_8);
    }

    @Test
    void aResetOfAStartupParameterBeforeAnotherStatementIsFollowedByItsStartupValue() {
        assertThat(sent("RESET DateStyle; select 1"))
                .isEqualTo("RESET DateStyle;SET \"DateStyle\" TO 'SQL, DMY'; select 1");
        assertThat(sent("reset WORK_MEM ; show work_mem"))
                .isEqualTo("reset WORK_MEM ;SET \"work_mem\" TO '256kB'; show work_mem");
        assertThat(sent("SET DateStyle TO DEFAULT; select 1"))
                .isEqualTo("SET DateStyle TO DEFAULT;SET \"DateStyle\" TO 'SQL, DMY'; select 1");
        assertThat(sent("begin; set local datestyle = default; select 1"))
                .isEqualTo("begin; set local datestyle = default;SET LOCAL \"DateStyle\" TO 'SQL, DMY'; select 1");
        assertThat(sent("RESET ALL; select 1")).startsWith("RESET ALL;SET ").endsWith("'; select 1")
                .contains(";SET \"DateStyle\" TO 'SQL, DMY';").contains(";SET \"work_mem\" TO '256kB';")
                .hasSize("RESET ALL;SET \"DateStyle\" TO 'SQL, DMY';SET \"work_mem\" TO '256kB'; select 1".length());
    }

    @Test
    void aStatementLastInTheStringIsFollowedToo() {
        assertThat(sent("RESET DateStyle")).isEqualTo("RESET DateStyle;SET \"DateStyle\" TO 'SQL, DMY';");
        assertThat(sent("RESET DateStyle -- done")).isEqualTo("RESET DateStyle;SET \"DateStyle\" TO 'SQL, DMY'; -- done");
        assertThat(sent("RESET DateStyle; ;")).isEqualTo("RESET DateStyle;SET \"DateStyle\" TO 'SQL, DMY'; ;");
        assertThat(sent("RESET 'x'")).isNull();
    }

    @Test
    void aSetLocalLastInTheStringIsFollowedInATransactionBlockOnly() {
        assertThat(sent("SET LOCAL DateStyle TO DEFAULT")).isNull();
        assertThat(new String(ResetToStartup.plan("SET LOCAL DateStyle TO DEFAULT", CLIENT, true).text,
                StandardCharsets.UTF_8)).isEqualTo("SET LOCAL DateStyle TO DEFAULT;SET LOCAL \"DateStyle\" TO 'SQL, DMY';");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "RESET TimeZone; select 1", "RESET search_path; select 1", // not a startup parameter of this client
        "SET DateStyle TO 'ISO'; select 1", "SET DateStyle TO default_x; select 1", "select 'RESET DateStyle; x'",
        "RESET ROLE; select 1",
        "create function f() returns int begin atomic reset datestyle; select 1; end; select 1", // not told apart
    })
    void nothingToInsert(String sql) {
        assertThat(sent(sql)).isNull();
    }

    @Test
    void aClientWithoutStartupParametersNeedsNothing() {
        assertThat(ResetToStartup.plan("RESET ALL; select 1", params(), false)).isNull();
    }

    @Test
    void listParametersQuotedAsIdentifiersAreInsertedOnlyInAFormTheyKeep() {
        assertThat(new String(ResetToStartup.plan("RESET search_path; select 1", params("search_path", "diff, public"), false)
                .text, StandardCharsets.UTF_8))
                .isEqualTo("RESET search_path;SET \"search_path\" TO 'diff', 'public'; select 1");
        assertThat(ResetToStartup.plan("RESET search_path; select 1", params("search_path", "\"$user\", public"), false))
                .isNull();
    }

    @Test
    void theAnswersOfInsertedStatementsAreSwallowedInOrder() {
        ResetPlan plan = ResetToStartup.plan("select 1; RESET ALL; select 2", CLIENT, false);
        assertThat(plan.swallow((byte) 'T')).isFalse();
        assertThat(plan.swallow((byte) 'D')).isFalse();
        assertThat(plan.swallow((byte) 'C')).isFalse(); // select 1
        assertThat(plan.swallow((byte) 'C')).isFalse(); // RESET ALL
        assertThat(plan.swallow((byte) 'S')).isFalse();
        assertThat(plan.swallow((byte) 'C')).isTrue(); // SET DateStyle
        assertThat(plan.swallow((byte) 'C')).isTrue(); // SET work_mem
        assertThat(plan.swallow((byte) 'T')).isFalse();
        assertThat(plan.swallow((byte) 'D')).isFalse();
        assertThat(plan.swallow((byte) 'C')).isFalse(); // select 2
        assertThat(plan.swallow((byte) 'Z')).isFalse();
    }

    @Test
    void anErrorEndsTheString() {
        ResetPlan plan = ResetToStartup.plan("RESET DateStyle; select 1/0; RESET work_mem; select 2", CLIENT, false);
        assertThat(plan.swallow((byte) 'C')).isFalse();
        assertThat(plan.swallow((byte) 'C')).isTrue();
        assertThat(plan.swallow((byte) 'E')).isFalse();
        assertThat(plan.swallow((byte) 'Z')).isFalse();
    }

    @Test
    void errorPositionsAfterAnInsertionAreMovedBack() {
        String sql = "RESET DateStyle; select é from nowhere; RESET work_mem; select x";
        ResetPlan plan = ResetToStartup.plan(sql, CLIENT, false);
        String text = new String(plan.text, StandardCharsets.UTF_8);
        int nowhere = text.indexOf("nowhere") + 1;
        assertThat(plan.clientPosition(nowhere)).isEqualTo(sql.indexOf("nowhere") + 1);
        int x = text.lastIndexOf('x') + 1;
        assertThat(plan.clientPosition(x)).isEqualTo(sql.lastIndexOf('x') + 1);
        assertThat(plan.clientPosition(3)).isEqualTo(3);

        ByteBuf error = Unpooled.buffer();
        error.writeByte('E').writeInt(0);
        for (String f : new String[] {"SERROR", "C42P01", "Mrelation \"nowhere\" does not exist", "P" + nowhere}) {
            error.writeCharSequence(f, StandardCharsets.UTF_8);
            error.writeByte(0);
        }
        error.writeByte(0);
        error.setInt(1, error.writerIndex() - 1);
        ByteBuf moved = plan.errorWithClientPosition(ByteBufAllocator.DEFAULT, error, 0, error.writerIndex());
        String fields = moved.toString(5, moved.readableBytes() - 5, StandardCharsets.UTF_8);
        assertThat(fields).contains("\0P" + (sql.indexOf("nowhere") + 1) + "\0");
        assertThat(moved.getInt(1)).isEqualTo(moved.readableBytes() - 1);
        moved.release();
        error.release();
    }

    private static String parsed(String sql) {
        ByteBuf in = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
        ResetToStartup.Parsed p = ResetToStartup.parse(in, 0, in.writerIndex(), CLIENT);
        return p == null ? null : new String(p.text(), StandardCharsets.US_ASCII) + (p.tagReset() ? " [RESET]" : "");
    }

    @Test
    void aParsedResetOfAStartupParameterBecomesASetOfItsStartupValue() {
        assertThat(parsed("RESET DateStyle")).isEqualTo("SET \"DateStyle\" TO 'SQL, DMY' [RESET]");
        assertThat(parsed(" reset work_mem ; ")).isEqualTo("SET \"work_mem\" TO '256kB' [RESET]");
        assertThat(parsed("SET DateStyle TO DEFAULT")).isEqualTo("SET \"DateStyle\" TO 'SQL, DMY'");
        assertThat(parsed("set local datestyle = default")).isEqualTo("SET LOCAL \"DateStyle\" TO 'SQL, DMY'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"RESET ALL", "RESET TimeZone", "RESET DateStyle; select 1", "SET DateStyle TO 'ISO'",
        "select 1", "DISCARD ALL"})
    void otherParsesAreSentAsTheyAre(String sql) {
        assertThat(parsed(sql)).isNull();
    }
}
