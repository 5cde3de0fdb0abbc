package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import org.jboss.logging.Logger;

/**
 * Backend → client: relays the server's answers as unmodified runs of retained slices, counts each ReadyForQuery
 * in the {@link TransactionTracker}, swallows the answers to what pgferry itself sent (a Parse it added, a Close it
 * answered locally), and at the end of a transaction decides whether the backend goes back to the pool, stays, or
 * needs a fixup first ({@link LeaseCycle}).
 */
final class ResponseRelay {
    private static final Logger LOG = Logger.getLogger(ResponseRelay.class);
    /** The server's messages are not limited here: it is trusted to send what it means (a huge DataRow too). */
    static final int MAX_SERVER_MESSAGE = Integer.MAX_VALUE - 1;

    private final ClientSession s;
    private final TransactionTracker tx;
    private final StatementRouter router;
    private final TransactionEffects txEffects;
    /** The server sent a FATAL (or PANIC) error: when it closes, the client has its reason already. */
    boolean serverFatal;

    ResponseRelay(ClientSession s) {
        this.s = s;
        this.tx = s.tx;
        this.router = s.router;
        this.txEffects = s.txEffects;
    }

    /** A new lease: nothing of the last backend's answers applies. */
    void reset() {
        serverFatal = false;
    }

    /** What the leased backend sent, relayed to the client ({@code state} is RELAYING). */
    void relay(ServerConnection c, ByteBuf data) {
        s.pool.stats().bytesFromServers.add(data.readableBytes());
        MessageFrameDecoder frames = s.backendFrames;
        frames.append(s.ch.alloc(), data);
        ByteBuf in = frames.buffer();
        if (in == null) {
            return; // the backend sent a length that cannot be framed: it is closing, what it sends is dropped
        }
        final int start = in.readerIndex();
        int runStart = start;
        boolean release = false;
        boolean resumeClient = false;
        while (true) {
            int ri = in.readerIndex();
            int frame;
            try {
                frame = frames.next();
            } catch (ProtocolException e) {
                LOG.warnf("%s: %s sent an invalid message: %s", s.id, c, e.getMessage());
                c.markBroken();
                c.close();
                return;
            }
            if (frame == FrameDecoder.NEED_MORE) {
                break;
            }
            int end = ri + frame;
            byte type = in.getByte(ri);
            boolean swallow = false;
            boolean popped = true;
            if (router.responses.peekRef() instanceof ResetPlan plan
                    && router.responses.peek() == ResponseQueue.QUERY && plan.swallow(type)) {
                // the answer to pgferry's own statement after a RESET in the client's query string
                writeClientRun(in, runStart, ri);
                runStart = end;
                in.readerIndex(end);
                continue;
            }
            switch (type) {
                case ProtocolCodes.READY_FOR_QUERY -> {
                    router.responses.poll();
                    byte status = in.getByte(ri + 5);
                    router.readyForQuery(c, status);
                    txEffects.readyForQuery(status);
                    // counted as PgBouncer counts them: a query per ReadyForQuery (a Query, a Sync, a function
                    // call), a transaction per ReadyForQuery 'I', in session mode and within a pipeline too
                    s.pool.stats().queries.increment();
                    if (status == 'I') {
                        s.pool.stats().transactions.increment();
                    }
                    boolean answeredLast = tx.readyForQuery(status);
                    if (status == 'I') {
                        ListenFanout.transactionEnded(s); // counted: the request this answers
                    }
                    if (answeredLast && tx.atRest()) {
                        StatementInspector.Findings resets = txEffects.requestAnswered(status, s.params);
                        if (!tx.inTransaction()) {
                            boolean keeps = s.keepsBackend();
                            if (txEffects.needsFixup(s.params, keeps) || ListenFanout.needsFixup(s)) {
                                writeClientRun(in, runStart, ri);
                                in.readerIndex(end);
                                frames.releaseIfEmpty();
                                s.lease.startFixup(c);
                                return;
                            }
                            if (keeps) {
                                txEffects.clear();
                            } else {
                                release = true;
                            }
                        } else {
                            if (resets != null) {
                                writeClientRun(in, runStart, ri);
                                in.readerIndex(end);
                                frames.releaseIfEmpty();
                                s.lease.startupAfterResets(c, resets);
                                return;
                            }
                            s.rest(); // the request is over, its transaction open: idle in transaction from now
                        }
                    }
                }
                case ProtocolCodes.PARSE_COMPLETE -> swallow = router.parseComplete();
                case ProtocolCodes.CLOSE_COMPLETE -> swallow = router.responses.poll() == ResponseQueue.CLOSE_INSERTED;
                case ProtocolCodes.BIND_COMPLETE -> router.responses.poll();
                case ProtocolCodes.ROW_DESCRIPTION, 'n', 't' -> {
                    swallow = router.shapes.described(c, in, ri, end);
                    if (swallow) {
                        popped = false;
                        resumeClient |= !router.shapes.waiting();
                    } else {
                        popped = type != 't' && pollIf(ResponseQueue.DESCRIBE);
                    }
                }
                case ProtocolCodes.COMMAND_COMPLETE, 'I', 's' -> {
                    tx.commandOver();
                    router.unsettled.commandComplete(in, ri, end);
                    router.commandTag(in, ri, end);
                    if (txEffects.watching()) {
                        txEffects.commandComplete(in, ri, end, tx.lastInFlight());
                    }
                    if (router.discardPending()) {
                        router.commandComplete(in, ri, end);
                    }
                    if (router.responses.peek() == ResponseQueue.EXECUTE
                            && router.responses.peekRef() == ResetTags.TAG_RESET) {
                        // the client's RESET ran as a SET of its startup value (ResetToStartup.parse)
                        writeClientRun(in, runStart, ri);
                        ByteBuf tag = s.ch.alloc().buffer(12);
                        ServerMessages.commandComplete(tag, "RESET");
                        s.ch.write(tag, s.ch.voidPromise());
                        s.clientFlush = true;
                        runStart = end;
                    }
                    popped = pollIf(ResponseQueue.EXECUTE);
                }
                case ProtocolCodes.ERROR_RESPONSE -> {
                    serverFatal |= isFatal(in, ri, frame);
                    if (MessageReader.hasSqlState(in, ri, "25006") && c.poolSlot() != null) {
                        // read-only transaction: its host may be a standby now, asked at once
                        c.poolSlot().refusedWrite(c);
                    }
                    txEffects.error(tx.lastInFlight());
                    router.discardFailed();
                    byte head = router.responses.peek();
                    router.serverError(c, in, ri, end);
                    ByteBuf renamed = router.duplicateError(in, ri, end);
                    if (renamed == null) {
                        renamed = router.shapes.staleError(in, ri, end);
                    }
                    if (renamed == null && head == ResponseQueue.QUERY
                            && router.responses.peekRef() instanceof ResetPlan plan) {
                        renamed = plan.errorWithClientPosition(s.ch.alloc(), in, ri, end);
                    }
                    boolean waited = router.shapes.waiting();
                    if (renamed != null) {
                        writeClientRun(in, runStart, ri);
                        s.ch.write(renamed, s.ch.voidPromise());
                        s.clientFlush = true;
                        runStart = end;
                    }
                    tx.commandOver(); // an error ends COPY
                    if (head != ResponseQueue.QUERY && head != ResponseQueue.FUNCTION) {
                        router.skipToSync(c);
                        // no Sync relayed after the failed message yet: what the client sends until its Sync is
                        // skipped by the server too
                        tx.skipToSync(router.responses.peek() == ResponseQueue.SYNC);
                    }
                    resumeClient |= waited && !router.shapes.waiting();
                    popped = false;
                }
                case ProtocolCodes.PARAMETER_STATUS -> {
                    popped = false;
                    try {
                        String[] kv = MessageReader.parameterStatus(in, ri);
                        c.syncedTo = null;
                        c.reported.put(kv[0], kv[1]);
                        if (router.responses.peekRef() instanceof ResetPlan plan
                                && plan.holdsReportNow() && s.params.startup().containsKey(kv[0])) {
                            swallow = true; // the fixup after the DISCARD ALL reports what changed
                        } else {
                            s.params.reportedChanged(kv[0], kv[1]);
                        }
                    } catch (ProtocolException e) {
                        // relayed as is; the client will judge it
                    }
                }
                case ProtocolCodes.NOTIFICATION_RESPONSE -> {
                    popped = false;
                    if (!s.keepsBackend()) {
                        // a pooled backend that listens: the client's notifications come from the fan-out
                        swallow = true;
                        s.backendListens = true;
                        ListenFanout.hold(s, in, ri, frame);
                    } else if (PinnedListens.deliveredByFanout(s, in, ri, frame)) {
                        swallow = true; // a pinned backend listens on the fan-out's channels for their names only
                    }
                }
                case ProtocolCodes.COPY_IN_RESPONSE -> {
                    tx.copyInStarted();
                    popped = false;
                    if (router.responses.peek() == ResponseQueue.EXECUTE) {
                        // The server ignores Sync in copy-in mode (CopyGetData: "for the convenience of client
                        // libraries (such as libpq) that may send those without noticing that the command they
                        // just sent was COPY"): a Sync relayed right after this Execute gets no ReadyForQuery.
                        tx.syncsIgnored(router.responses.removeBehindHead(ResponseQueue.SYNC));
                    }
                }
                default -> popped = false;
            }
            if (swallow) {
                writeClientRun(in, runStart, ri);
                runStart = end;
            }
            in.readerIndex(end);
            if (popped) {
                byte head = router.responses.peek();
                if (head == ResponseQueue.PARSE_LOCAL || head == ResponseQueue.CLOSE_LOCAL
                        || head == ResponseQueue.DEALLOCATE_LOCAL) {
                    writeClientRun(in, runStart, end);
                    runStart = end;
                    router.emitLocalResponses();
                }
            }
        }
        s.clientFlush |= in.readerIndex() > runStart;
        Slices.relayRest(s.ch, frames, start, runStart);
        if (!s.ch.isWritable()) {
            c.channel().config().setAutoRead(false);
        }
        if (release) {
            s.deferClientFlush();
            s.lease.release(c);
        } else if (resumeClient && s.state == SessionState.RELAYING && s.clientFrames.readableBytes() > 0) {
            s.requests.relay(); // the client's messages that waited for a ShapeCheck
            s.flushBackend();
        }
        if (s.inbox != null) {
            s.inbox.drain(); // after the ReadyForQuery that ended a transaction (pinned client)
        }
    }

    private boolean pollIf(byte kind) {
        if (router.responses.peek() == kind) {
            router.responses.poll();
            return true;
        }
        return false;
    }

    private static boolean isFatal(ByteBuf in, int ri, int frame) {
        // Severity is the first field PostgreSQL writes: 'S' FATAL or PANIC
        int i = ri + 5;
        return in.getByte(i) == 'S' && frame > 11
                && (in.getByte(i + 1) == 'F' || in.getByte(i + 1) == 'P') && in.getByte(i + 2) == 'A';
    }

    private void writeClientRun(ByteBuf in, int from, int to) {
        s.clientFlush |= Slices.write(s.ch, in, from, to);
    }
}
