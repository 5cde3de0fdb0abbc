package dev.pgferry.admin;

import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * One admin console client after login: simple Query messages, one at a time (reading pauses while a command
 * runs on the console's worker), Terminate. The extended protocol is refused with 0A000 up to its Sync, which
 * gets its ReadyForQuery; anything else is a protocol violation (08P01, then close).
 */
final class AdminConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(AdminConnection.class);

    private final AdminConsole console;
    private final String id;
    private final MessageFrameDecoder frames;
    private ChannelHandlerContext ctx;
    private boolean busy;
    private boolean skippingToSync;
    private boolean closed;

    AdminConnection(AdminConsole console, String id, int maxMessage) {
        this.console = console;
        this.id = id;
        this.frames = new MessageFrameDecoder(maxMessage);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        console.connectionOpened(ctx.channel().closeFuture());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closed) {
            ((ByteBuf) msg).release();
            return;
        }
        frames.append(ctx.alloc(), (ByteBuf) msg);
        process();
    }

    private void process() {
        try {
            int frame;
            while (!busy && !closed && (frame = frames.next()) != FrameDecoder.NEED_MORE) {
                ByteBuf in = frames.buffer();
                int start = in.readerIndex();
                byte type = in.getByte(start);
                frames.skipFrame(); // its bytes stay readable at their indices until the next append
                switch (type) {
                    case ProtocolCodes.QUERY -> query(in.toString(start + 5, Math.max(0, frame - 6),
                            StandardCharsets.UTF_8));
                    case ProtocolCodes.TERMINATE -> close();
                    case ProtocolCodes.SYNC -> {
                        skippingToSync = false;
                        ByteBuf out = ctx.alloc().buffer(6);
                        ServerMessages.readyForQuery(out, (byte) 'I');
                        ctx.writeAndFlush(out, ctx.voidPromise());
                    }
                    case ProtocolCodes.PARSE, ProtocolCodes.BIND, ProtocolCodes.DESCRIBE, ProtocolCodes.EXECUTE,
                            ProtocolCodes.CLOSE, ProtocolCodes.FLUSH -> refuseExtended();
                    default -> fatal(SqlState.PROTOCOL_VIOLATION, "invalid frontend message type " + (type & 0xff));
                }
            }
        } catch (ProtocolException e) {
            fatal(e.sqlState(), e.getMessage());
            return;
        }
        frames.releaseIfEmpty();
    }

    private void refuseExtended() {
        if (skippingToSync) {
            return;
        }
        skippingToSync = true;
        ctx.writeAndFlush(ServerMessages.errorResponse(ctx.alloc(), "ERROR", SqlState.FEATURE_NOT_SUPPORTED,
                "the admin console supports only the simple query protocol"), ctx.voidPromise());
    }

    private void query(String sql) {
        busy = true;
        ctx.channel().config().setAutoRead(false);
        console.execute(sql).whenComplete((outcomes, failure) -> ctx.executor().execute(() -> {
            List<AdminConsole.Outcome> answer = failure == null ? outcomes
                    : List.of(AdminConsole.Outcome.failed(SqlState.INTERNAL_ERROR, String.valueOf(failure)));
            answer(answer);
        }));
    }

    /** Writes the answers and ReadyForQuery on the channel's loop, then reads on. */
    private void answer(List<AdminConsole.Outcome> outcomes) {
        if (closed) {
            return;
        }
        ByteBuf out = ctx.alloc().buffer(256);
        Runnable after = null;
        String afterTag = null;
        if (outcomes.isEmpty()) {
            ServerMessages.emptyQueryResponse(out);
        }
        for (AdminConsole.Outcome o : outcomes) {
            if (o.result() == null) {
                ServerMessages.errorResponse(out, "ERROR", o.sqlState(), o.message());
                continue;
            }
            AdminResult r = o.result();
            for (String notice : r.notices()) {
                ServerMessages.noticeResponse(out, "NOTICE", "00000", notice);
            }
            if (r.columns() != null) {
                ServerMessages.rowDescription(out, r.columns());
                r.rows().forEach(row -> ServerMessages.dataRow(out, row));
            }
            ServerMessages.commandComplete(out, r.tag());
            if (r.afterSent() != null) {
                after = r.afterSent();
                afterTag = r.tag();
            }
        }
        ServerMessages.readyForQuery(out, (byte) 'I');
        Runnable then = after;
        String thenTag = afterTag;
        ctx.writeAndFlush(out).addListener(f -> {
            if (then != null) {
                LOG.infof("%s: %s from the admin console", id, thenTag);
                then.run();
            }
        });
        busy = false;
        ctx.channel().config().setAutoRead(true);
        process();
    }

    private void fatal(String sqlState, String message) {
        LOG.debugf("%s admin console: %s", id, message);
        ctx.writeAndFlush(ServerMessages.errorResponse(ctx.alloc(), "FATAL", sqlState, message))
                .addListener(f -> close());
        closed = true;
        release();
    }

    private void close() {
        closed = true;
        release();
        ctx.close();
    }

    private void release() {
        frames.release();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debugf("%s admin console connection error: %s", id, cause.toString());
        close();
    }
}
