package dev.pgferry.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Cuts a connection's reads into length-prefixed frames, as Netty's {@code LengthFieldBasedFrameDecoder} but driven
 * by its handler, which decides when to read and what a frame means. The reads are kept in one cumulation
 * ({@link Cumulator}: copied only when a frame spans two reads); a frame leaves as a retained slice of it, or is
 * skipped in place. A declared length is checked as soon as its word is readable, before anything more is buffered;
 * an incomplete frame is {@link #NEED_MORE}, never an exception. A refused length is final: the stream cannot be
 * framed any more, so everything read is dropped and every later {@link #next} refuses again. (A relay that still has
 * to pass on the frames ahead of the refused one in the same read asks for {@link #holdRefusedRead}.)
 */
public abstract sealed class FrameDecoder permits StartupFrameDecoder, MessageFrameDecoder {
    /** What {@link #next} returns while the frame at the reader index is incomplete. */
    public static final int NEED_MORE = -1;

    /** Where the decoder is in the frame at the reader index. */
    public enum State {
        /** Waiting for the header (type byte, if any, and length word) of the next frame. */
        HEADER,
        /** The header was read and its length accepted; waiting for the rest of the frame. */
        BODY,
        /** A length was refused: nothing more can be framed, nothing more is kept. */
        CORRUPT
    }

    /** Bytes ahead of the length word: 0 for a startup packet, 1 (the type) for a message. */
    private final int typeBytes;
    private ByteBuf cumulation;
    private State state = State.HEADER;
    /** In BODY: the declared length (counting itself) of the frame at the reader index. */
    private int declaredLength;
    /** The size of the last frame {@link #next} returned, which {@link #readFrame}/{@link #skipFrame} consume. */
    private int frameSize;
    private ProtocolException corruption;
    /** With {@link #holdRefusedRead}: the read that held a refused length, kept until {@link #release}. */
    private boolean holdRefused;
    private ByteBuf refused;

    FrameDecoder(int typeBytes) {
        this.typeBytes = typeBytes;
    }

    /** Refuses a declared length; {@code in}'s reader index is at the frame's first byte. */
    abstract void checkLength(ByteBuf in, int declared) throws ProtocolException;

    /**
     * On a refused length, keeps the cumulation alive (out of {@link #buffer}'s reach) until {@link #release}, so that
     * a caller holding it can still pass on the frames it read before the refused one. Set once, before reading.
     */
    public final void holdRefusedRead() {
        holdRefused = true;
    }

    /** Adds a read; takes ownership of {@code in} (released at once once the stream is corrupt). */
    public final void append(ByteBufAllocator alloc, ByteBuf in) {
        if (state == State.CORRUPT) {
            in.release();
            return;
        }
        releaseIfEmpty(); // a read that ends on a frame boundary is then used as it is, not copied
        cumulation = Cumulator.append(alloc, cumulation, in);
    }

    /** Continues where {@code previous} stopped: what it read but did not frame becomes the head of this stream. */
    public final void takeOver(FrameDecoder previous) {
        ByteBuf rest = previous.takeRest();
        if (rest != null) {
            append(rest.alloc(), rest);
        }
    }

    /**
     * The size of the complete frame at the reader index (its header included), or {@link #NEED_MORE}. The caller
     * consumes that frame ({@link #readFrame}, {@link #skipFrame}, or the buffer's reader index) before asking again.
     *
     * @throws ProtocolException its declared length is refused (and again on every later call)
     */
    public final int next() throws ProtocolException {
        return switch (state) {
            case CORRUPT -> throw corruption;
            case HEADER -> readHeader() ? readBody() : NEED_MORE;
            case BODY -> readBody();
        };
    }

    private boolean readHeader() throws ProtocolException {
        if (cumulation == null || cumulation.readableBytes() < typeBytes + 4) {
            return false;
        }
        int declared = cumulation.getInt(cumulation.readerIndex() + typeBytes);
        try {
            checkLength(cumulation, declared);
        } catch (ProtocolException e) {
            state = State.CORRUPT;
            corruption = e;
            if (holdRefused) {
                refused = cumulation;
                cumulation = null;
            } else {
                release();
            }
            throw e;
        }
        declaredLength = declared;
        state = State.BODY;
        return true;
    }

    private int readBody() {
        // readable - typeBytes, not declared + typeBytes: a declared Integer.MAX_VALUE must not overflow
        if (cumulation.readableBytes() - typeBytes < declaredLength) {
            return NEED_MORE;
        }
        state = State.HEADER;
        frameSize = typeBytes + declaredLength;
        return frameSize;
    }

    /** The frame {@link #next} announced, header included, as a retained slice (the caller releases it). */
    public final ByteBuf readFrame() {
        return cumulation.readRetainedSlice(frameSize);
    }

    /** Consumes the frame {@link #next} announced without slicing it (after reading it in place). */
    public final void skipFrame() {
        cumulation.skipBytes(frameSize);
    }

    /** The cumulation, the next frame at its reader index, for reading in place; null when nothing was kept. */
    public final ByteBuf buffer() {
        return cumulation;
    }

    /** Bytes kept and not yet consumed. */
    public final int readableBytes() {
        return cumulation == null ? 0 : cumulation.readableBytes();
    }

    public final State state() {
        return state;
    }

    /**
     * Hands what is kept and not consumed to the caller (null if nothing), for the handler that takes the connection
     * over; this decoder starts again from an empty stream.
     */
    public final ByteBuf takeRest() {
        ByteBuf rest = cumulation;
        cumulation = null;
        if (state != State.CORRUPT) {
            state = State.HEADER;
        }
        if (rest != null && !rest.isReadable()) {
            rest.release();
            return null;
        }
        return rest;
    }

    /** Lets go of the cumulation once all of it is consumed, so that an idle connection holds no buffer. */
    public final void releaseIfEmpty() {
        if (cumulation != null && !cumulation.isReadable()) {
            cumulation.release();
            cumulation = null;
        }
    }

    /**
     * Drops everything kept (the connection, or the stream, is over); a partial frame is forgotten, so a later read
     * starts at a header again (unless the stream is corrupt, which stays so).
     */
    public final void release() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
        if (refused != null) {
            refused.release();
            refused = null;
        }
        if (state == State.BODY) {
            state = State.HEADER;
        }
    }
}
