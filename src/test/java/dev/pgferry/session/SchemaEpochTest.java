package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SchemaEpochTest {
    static ByteBuf commandComplete(String tag) {
        byte[] t = (tag + "\0").getBytes(StandardCharsets.US_ASCII);
        return Unpooled.buffer().writeByte('C').writeInt(4 + t.length).writeBytes(t);
    }

    static boolean tag(String tag) {
        ByteBuf b = commandComplete(tag);
        return SchemaEpoch.isSchemaChange(b, 0, b.writerIndex());
    }

    static boolean text(String sql) {
        ByteBuf b = Unpooled.copiedBuffer(sql + "\0", StandardCharsets.UTF_8);
        return SchemaEpoch.isSchemaChangeText(b, 0, b.writerIndex());
    }

    @Test
    void ddlTagsAreSchemaChangesOthersAreNot() {
        assertThat(tag("ALTER TABLE")).isTrue();
        assertThat(tag("CREATE TYPE")).isTrue();
        assertThat(tag("DROP VIEW")).isTrue();
        assertThat(tag("SELECT 1")).isFalse();
        assertThat(tag("DELETE 3")).isFalse();
        assertThat(tag("COMMIT")).isFalse();
        assertThat(tag("DISCARD ALL")).isFalse();
        assertThat(tag("DO")).isFalse();
    }

    @Test
    void ddlTextIsFoundByItsFirstWord() {
        assertThat(text("alter table t add column b int")).isTrue();
        assertThat(text("  \n(CREATE TYPE e AS ENUM ('x'))")).isTrue();
        assertThat(text("Drop table t")).isTrue();
        assertThat(text("altered")).isFalse();
        assertThat(text("select * from drop_t")).isFalse();
        assertThat(text("dropx")).isFalse();
        assertThat(text("drop")).isTrue();
    }

    @Test
    void aGenerationSuffixesTheNameAfterTheFirst() {
        SchemaEpoch e = new SchemaEpoch();
        assertThat(SchemaEpoch.serverName("pgf_ab_3", e.current())).isEqualTo("pgf_ab_3");
        e.advance();
        ByteBuf b = commandComplete("ALTER TABLE");
        e.commandComplete(b, 0, b.writerIndex());
        assertThat(SchemaEpoch.serverName("pgf_ab_3", e.current())).isEqualTo("pgf_ab_3_g2");
    }

    static ByteBuf rowDescription(String name, int table, int column, int type, int typmod, int format) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuf b = Unpooled.buffer().writeByte('T').writeInt(4 + 2 + n.length + 18).writeShort(1).writeBytes(n);
        return b.writeInt(table).writeShort(column).writeInt(type).writeShort(4).writeInt(typmod).writeShort(format);
    }

    static long shape(ByteBuf b) {
        return ShapeCheck.shapeOf(b, 0, b.writerIndex());
    }

    @Test
    void aShapeIsNamesTypesAndModifiersNotTablesOrFormats() {
        long a = shape(rowDescription("a", 16384, 1, 23, -1, 0));
        assertThat(shape(rowDescription("a", 99999, 2, 23, -1, 1))).as("another table, a portal's formats").isEqualTo(a);
        assertThat(shape(rowDescription("a", 16384, 1, 20, -1, 0))).as("int8 for int4").isNotEqualTo(a);
        assertThat(shape(rowDescription("b", 16384, 1, 23, -1, 0))).as("renamed").isNotEqualTo(a);
        assertThat(shape(rowDescription("a", 16384, 1, 23, 8, 0))).as("modifier").isNotEqualTo(a);
        ByteBuf noData = Unpooled.buffer().writeByte('n').writeInt(4);
        assertThat(shape(noData)).isEqualTo(ShapeCheck.NO_ROWS).isNotEqualTo(a).isNotZero();
    }
}
