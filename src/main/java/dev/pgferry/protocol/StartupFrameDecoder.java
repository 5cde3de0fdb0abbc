package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Frames the untyped packets of a connection's startup phase (SSLRequest, GSSENCRequest, CancelRequest,
 * StartupMessage): a 4-byte length that counts itself, then the body. A length outside [8, 10 004] is refused from the
 * length word alone, as PostgreSQL's ProcessStartupPacket refuses it (MAX_STARTUP_PACKET_LENGTH, a COMMERROR: see
 * {@link Framing#checkStartupLength}).
 */
public final class StartupFrameDecoder extends FrameDecoder {
    public StartupFrameDecoder() {
        super(0);
    }

    @Override
    void checkLength(ByteBuf in, int declared) throws ProtocolException {
        Framing.checkStartupLength(declared);
    }
}
