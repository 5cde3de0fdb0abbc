package dev.pgferry.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** {@link MessageReader#hasSqlState}: the relay's in-place look for 25006 in an ErrorResponse. */
class ErrorSqlStateTest {

    @Test
    void findsTheCodeFieldWhereverItIsAndNothingElse() {
        ByteBuf readOnly = Unpooled.buffer();
        readOnly.writeByte('x'); // a frame that does not start at index 0
        int start = readOnly.writerIndex();
        ServerMessages.errorResponse(readOnly, "ERROR", "25006", "cannot execute CREATE TABLE in a read-only transaction");
        assertTrue(MessageReader.hasSqlState(readOnly, start, "25006"));
        assertFalse(MessageReader.hasSqlState(readOnly, start, "25001"));
        assertFalse(MessageReader.hasSqlState(readOnly, start, "2500"));
        readOnly.release();

        ByteBuf other = Unpooled.buffer();
        ServerMessages.errorResponse(other, "FATAL", "57P01", "25006 in the message is not the code");
        assertFalse(MessageReader.hasSqlState(other, 0, "25006"));
        other.release();
    }

    @Test
    void aTruncatedFieldIsNoMatch() {
        ByteBuf cut = Unpooled.buffer();
        cut.writeByte('E').writeInt(4 + 7).writeByte('C').writeBytes("250".getBytes()).writeByte('0');
        // length says 7 bytes of fields, but the C field has no terminating NUL within them
        assertFalse(MessageReader.hasSqlState(cut, 0, "25006"));
        cut.release();
    }
}
