package dev.pgferry.session;

import dev.pgferry.backend.BackendListener;
import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.FrontendMessages;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A simple query pgferry runs on a backend for itself (parameter restore, ROLLBACK, DISCARD ALL). Its
 * responses never reach a client; ParameterStatus changes are recorded on the connection and reported
 * to the callback, the last DataRow is kept.
 */
final class InternalQuery implements BackendListener {
    private static final int MAX_RESPONSE = 1 << 20;

    interface Callback {
        void done(ServerConnection conn, Result result);
    }

    /** What came back; {@code error} is null on success, {@code closed} if the connection died. */
    static final class Result {
        final List<String[]> parameterChanges = new ArrayList<>(2);
        List<String> lastRow;
        Map<Character, String> error;
        boolean closed;
        byte status;

        boolean ok() {
            return error == null && !closed;
        }
    }

    private final Callback callback;
    private final Result result = new Result();
    /** ReadyForQuery messages still to come: one per query sent. */
    private int readies = 1;
    private final MessageFrameDecoder frames = new MessageFrameDecoder(MAX_RESPONSE);
    private boolean finished;
    /** Who had the connection before this query: a client that listens there gets what comes meanwhile. */
    private BackendListener owner;

    private InternalQuery(Callback callback) {
        this.callback = callback;
    }

    static void run(ServerConnection conn, String sql, Callback callback) {
        InternalQuery q = new InternalQuery(callback);
        conn.syncedTo = null; // its parameters may change
        conn.unnamedOwner = null; // a simple query destroys the unnamed statement: a client's is parsed again
        listen(conn, q);
        ByteBuf out = conn.channel().alloc().buffer(sql.length() + 8);
        FrontendMessages.query(out, sql);
        conn.channel().writeAndFlush(out, conn.channel().voidPromise());
    }

    /**
     * Runs each of {@code sqls} as a Query of its own, all sent at once (a statement that refuses to run in a
     * transaction block, as DISCARD ALL, cannot share a multi-statement Query); the callback runs after the last
     * one's ReadyForQuery. {@code error} is the first error, {@code lastRow} the last row of any of them.
     */
    static void runEach(ServerConnection conn, List<String> sqls, Callback callback) {
        InternalQuery q = new InternalQuery(callback);
        q.readies = sqls.size();
        conn.syncedTo = null;
        conn.unnamedOwner = null;
        listen(conn, q);
        ByteBuf out = conn.channel().alloc().buffer(64);
        for (String sql : sqls) {
            FrontendMessages.query(out, sql);
        }
        conn.channel().writeAndFlush(out, conn.channel().voidPromise());
    }

    /**
     * The answer is always read, whatever paused reading from this backend before: a client too slow for a large
     * result, say, that then ended its transaction (fixup) or left (ROLLBACK). Unread, it would hold the backend
     * and whoever waits for this query forever. The answer is small and bounded ({@link #MAX_RESPONSE}).
     */
    private static void listen(ServerConnection conn, InternalQuery q) {
        BackendListener had = conn.listener();
        q.owner = had instanceof InternalQuery before ? before.owner : had; // a query run from another's callback
        conn.listener(q);
        if (!conn.channel().config().isAutoRead()) {
            conn.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void onBackendRead(ServerConnection conn, ByteBuf data) {
        if (finished) {
            data.release();
            return;
        }
        frames.append(conn.channel().alloc(), data);
        try {
            while (!finished && frames.next() != FrameDecoder.NEED_MORE) {
                // read in place: each message is parsed here and dropped, nothing of it outlives this loop
                handle(conn, frames.buffer());
                frames.skipFrame();
            }
        } catch (ProtocolException e) {
            conn.markBroken();
            result.error = Map.of('C', e.sqlState(), 'M', e.getMessage(), 'S', "FATAL");
            finish(conn);
        }
        if (finished) {
            // what came behind the answer in the same read belongs to whoever has the connection now: a notification
            // for the client pinned to it, or the answer to its next request already relayed
            ByteBuf rest = frames.takeRest();
            frames.release();
            if (rest != null) {
                BackendListener next = conn.listener();
                if (next != this && !conn.isBroken()) {
                    next.onBackendRead(conn, rest);
                } else {
                    rest.release();
                }
            }
        } else {
            frames.releaseIfEmpty();
        }
    }

    /** Takes in the message at {@code acc}'s reader index. */
    private void handle(ServerConnection conn, ByteBuf acc) throws ProtocolException {
        int start = acc.readerIndex();
        switch (acc.getByte(start)) {
            case ProtocolCodes.PARAMETER_STATUS -> {
                String[] kv = MessageReader.parameterStatus(acc, start);
                conn.reported.put(kv[0], kv[1]);
                result.parameterChanges.add(kv);
            }
            case ProtocolCodes.DATA_ROW -> result.lastRow = dataRow(acc, start);
            case ProtocolCodes.NOTIFICATION_RESPONSE -> {
                if (owner instanceof ClientSession s) {
                    PinnedListens.arrivedDuringQuery(s, acc, start, 1 + acc.getInt(start + 1));
                }
            }
            case ProtocolCodes.ERROR_RESPONSE -> {
                Map<Character, String> error = MessageReader.errorFields(acc, start);
                if (result.error == null) {
                    result.error = error;
                }
                if ("FATAL".equals(error.get('V')) || "PANIC".equals(error.get('V'))) {
                    conn.markBroken();
                }
            }
            case ProtocolCodes.READY_FOR_QUERY -> {
                result.status = acc.getByte(start + 5);
                if (--readies == 0) {
                    finish(conn);
                }
            }
            default -> {
                // RowDescription, CommandComplete, notices: not needed
            }
        }
    }

    private static List<String> dataRow(ByteBuf acc, int start) {
        int n = acc.getUnsignedShort(start + 5);
        List<String> row = new ArrayList<>(n);
        int i = start + 7;
        for (int c = 0; c < n; c++) {
            int len = acc.getInt(i);
            i += 4;
            if (len < 0) {
                row.add(null);
            } else {
                row.add(acc.toString(i, len, StandardCharsets.UTF_8));
                i += len;
            }
        }
        return row;
    }

    private void finish(ServerConnection conn) {
        finished = true;
        callback.done(conn, result);
    }

    @Override
    public void onBackendReadComplete(ServerConnection conn) {}

    @Override
    public void onBackendClosed(ServerConnection conn, Throwable cause) {
        frames.release();
        if (!finished) {
            result.closed = true;
            finish(conn);
        }
    }

    @Override
    public void onBackendWritabilityChanged(ServerConnection conn, boolean writable) {}
}
