package dev.pgferry.differential;

import static dev.pgferry.testing.RawWireClient.concat;
import static dev.pgferry.testing.RawWireClient.cstring;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.RawWireClient.Msg;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Backend messages as observations, from bytes as PostgreSQL writes them (protocol 3.0, "Message Formats"). */
class WireObservationsTest {

    private static byte[] i16(int v) {
        return new byte[] {(byte) (v >> 8), (byte) v};
    }

    private static byte[] i32(int v) {
        return new byte[] {(byte) (v >> 24), (byte) (v >> 16), (byte) (v >> 8), (byte) v};
    }

    private static Msg rowDescription(int tableOid) {
        return new Msg('T', concat(i16(1), cstring("n"), i32(tableOid), i16(1), i32(23), i16(4), i32(-1), i16(0)));
    }

    @Test
    void rowDescriptionKeepsNameTypeModifierAndFormatButNotTheTable() {
        // each arm has its own table, with its own OID: the same query must look the same on both
        assertThat(WireObservations.describe(rowDescription(16400))).isEqualTo("T[n:23:-1:0]");
        assertThat(WireObservations.describe(rowDescription(16400)))
                .isEqualTo(WireObservations.describe(rowDescription(99999)));
    }

    @Test
    void dataRowValuesWithNull() {
        Msg row = new Msg('D', concat(i16(2), i32(3), "UTC".getBytes(), i32(-1)));
        assertThat(WireObservations.describe(row)).isEqualTo("D[UTC, null]");
    }

    @Test
    void errorsAndNoticesAreTheirSeverityAndSqlstate() {
        Msg e = new Msg('E', concat("SERROR\0VERROR\0C42P05\0Mprepared statement \"s1\" already exists\0".getBytes(),
                new byte[] {0}));
        assertThat(WireObservations.describe(e)).isEqualTo("E(ERROR 42P05)");
    }

    @Test
    void parameterStatusGoesToTheReportedMapAndKeyDataIsLeftOut() {
        Map<String, String> reported = new TreeMap<>();
        List<String> seen = WireObservations.describe(List.of(
                new Msg('S', concat(cstring("TimeZone"), cstring("UTC"))),
                new Msg('K', concat(i32(4242), i32(77))),
                new Msg('C', cstring("SET")),
                new Msg('Z', new byte[] {'T'})), reported);
        assertThat(seen).containsExactly("C(SET)", "Z(T)");
        assertThat(reported).containsExactly(Map.entry("TimeZone", "UTC"));
    }

    @Test
    void parameterDescriptionIsItsTypes() {
        assertThat(WireObservations.describe(new Msg('t', concat(i16(2), i32(23), i32(25))))).isEqualTo("t[23, 25]");
    }
}
