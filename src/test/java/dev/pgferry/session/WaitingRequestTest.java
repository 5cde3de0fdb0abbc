package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.testing.RawWireClient;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** What of a waiting client's input a cancel withdraws: through its first Query, FunctionCall or Sync. */
class WaitingRequestTest {
    static final int MAX = 1 << 20;
    static final byte[] QUERY = RawWireClient.query("select 1");
    static final byte[] BATCH = RawWireClient.concat(RawWireClient.parse("", "select 1"), RawWireClient.bind(""),
            RawWireClient.execute(), RawWireClient.sync());

    private static WaitingRequest first(byte[]... parts) {
        ByteBuf in = Unpooled.wrappedBuffer(RawWireClient.concat(parts));
        try {
            int before = in.readerIndex();
            WaitingRequest r = WaitingRequest.first(in, MAX);
            assertThat(in.readerIndex()).as("reader index left as is").isEqualTo(before);
            return r;
        } finally {
            in.release();
        }
    }

    @Test
    void aSimpleQueryEndsAtItself() {
        assertThat(first(QUERY)).isEqualTo(new WaitingRequest(QUERY.length, true));
    }

    @Test
    void aPipelinedQueryAfterTheFirstIsNotPartOfIt() {
        assertThat(first(QUERY, RawWireClient.query("select 2"))).isEqualTo(new WaitingRequest(QUERY.length, true));
    }

    @Test
    void anExtendedBatchEndsAtItsSyncAndTheNextBatchIsNotPartOfIt() {
        assertThat(first(BATCH)).isEqualTo(new WaitingRequest(BATCH.length, true));
        assertThat(first(BATCH, BATCH, QUERY)).isEqualTo(new WaitingRequest(BATCH.length, true));
    }

    @Test
    void aFunctionCallEndsItsRequest() {
        byte[] call = RawWireClient.message('F', new byte[] {0, 0, 0, 42, 0, 0, 0, 0, 0, 0});
        assertThat(first(call, QUERY)).isEqualTo(new WaitingRequest(call.length, true));
    }

    @Test
    void aBatchWhoseSyncHasNotComeSpansItsCompleteMessagesAndIsNotEnded() {
        byte[] parse = RawWireClient.parse("", "select 1");
        byte[] bind = RawWireClient.bind("");
        byte[] execute = RawWireClient.execute();
        assertThat(first(parse, bind)).isEqualTo(new WaitingRequest(parse.length + bind.length, false));
        byte[] halfExecute = java.util.Arrays.copyOf(execute, 3);
        assertThat(first(parse, bind, halfExecute)).isEqualTo(new WaitingRequest(parse.length + bind.length, false));
        byte[] halfSync = java.util.Arrays.copyOf(RawWireClient.sync(), 4);
        assertThat(first(parse, bind, execute, halfSync))
                .isEqualTo(new WaitingRequest(parse.length + bind.length + execute.length, false));
    }

    @Test
    void aFrameWithAnInvalidLengthEndsTheScanBeforeIt() {
        byte[] parse = RawWireClient.parse("", "select 1");
        byte[] bad = RawWireClient.message('B', new byte[0]);
        RawWireClient.setInt(bad, 1, 2); // below 4
        assertThat(first(parse, bad, RawWireClient.sync())).isEqualTo(new WaitingRequest(parse.length, false));
    }

    @Test
    void itReadsFromTheReaderIndex() {
        ByteBuf in = Unpooled.wrappedBuffer(RawWireClient.concat(QUERY, BATCH));
        try {
            in.skipBytes(QUERY.length);
            assertThat(WaitingRequest.first(in, MAX)).isEqualTo(new WaitingRequest(BATCH.length, true));
            assertThat(in.readerIndex()).isEqualTo(QUERY.length);
        } finally {
            in.release();
        }
    }
}
