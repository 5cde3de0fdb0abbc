package dev.pgferry.session;

import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.MessageFrameDecoder;
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
        // a decoder of its own over a view of the bytes (own indices, one more reference, released below): the
        // caller's buffer and its reader index stay as they are. A cancel of a waiting client is rare: not hot.
        MessageFrameDecoder frames = new MessageFrameDecoder(maxMessage);
        frames.append(in.alloc(), in.retainedDuplicate());
        int bytes = 0;
        try {
            int frame;
            while ((frame = frames.next()) != FrameDecoder.NEED_MORE) {
                byte type = (byte) frames.peekType();
                frames.skipFrame();
                bytes += frame;
                if (endsRequest(type)) {
                    return new WaitingRequest(bytes, true);
                }
            }
        } catch (ProtocolException e) {
            // the invalid frame is not part of it: left for the caller's framing to reject
        } finally {
            frames.release();
        }
        return new WaitingRequest(bytes, false);
    }

    /** Whether a client message of this type is answered by one ReadyForQuery: Query, FunctionCall, Sync. */
    static boolean endsRequest(byte type) {
        return type == ProtocolCodes.QUERY || type == ProtocolCodes.FUNCTION_CALL || type == ProtocolCodes.SYNC;
    }
}
