package dev.pgferry.session;

import dev.pgferry.protocol.Framing;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * The request a client waits with for a backend, as a cancel withdraws it: its messages up to and including the
 * first Query, FunctionCall or Sync, each of which PostgreSQL answers with one ReadyForQuery. A cancel stops only
 * the statement running when it arrives, so what the client sent after that boundary still runs. Without a complete
 * boundary yet (an extended-protocol batch whose Sync is still on its way) every complete message belongs to it, and
 * the rest of the batch is skipped as it comes, as PostgreSQL skips up to the Sync after an error.
 */
record WaitingRequest(int bytes, boolean ended) {
    /**
     * Scans the complete messages of {@code in} from its reader index, which it leaves as is. A frame with an invalid
     * length ends the scan before it, left for the caller's framing to reject.
     */
    static WaitingRequest first(ByteBuf in, int maxMessage) {
        ByteBuf view = in.duplicate(); // own indices, same bytes, no reference taken
        int start = view.readerIndex();
        while (true) {
            int frame;
            try {
                frame = Framing.messageFrameLength(view, maxMessage);
            } catch (ProtocolException e) {
                frame = Framing.NEED_MORE;
            }
            if (frame == Framing.NEED_MORE) {
                return new WaitingRequest(view.readerIndex() - start, false);
            }
            byte type = view.getByte(view.readerIndex());
            view.skipBytes(frame);
            if (endsRequest(type)) {
                return new WaitingRequest(view.readerIndex() - start, true);
            }
        }
    }

    /** Whether a client message of this type is answered by one ReadyForQuery: Query, FunctionCall, Sync. */
    static boolean endsRequest(byte type) {
        return type == ProtocolCodes.QUERY || type == ProtocolCodes.FUNCTION_CALL || type == ProtocolCodes.SYNC;
    }
}
