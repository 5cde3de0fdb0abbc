package dev.pgferry.session;

import dev.pgferry.backend.ServerConnection;
import dev.pgferry.config.PgferryConfig.ListenMode;
import dev.pgferry.config.PgferryConfig.Pinning;
import dev.pgferry.protocol.FrameDecoder;
import dev.pgferry.protocol.FrontendMessages;
import dev.pgferry.protocol.MessageFrameDecoder;
import dev.pgferry.protocol.MessageReader;
import dev.pgferry.protocol.ProtocolCodes;
import dev.pgferry.protocol.ProtocolException;
import dev.pgferry.protocol.ServerMessages;
import dev.pgferry.protocol.SqlState;
import dev.pgferry.session.SessionState.Event;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import org.jboss.logging.Logger;

/**
 * Client → backend: what a session does with the messages its client sends. Holding no backend
 * ({@link #onIdle}), it answers what needs no server and leases one for the rest. Holding one ({@link #relay}), it
 * relays every complete message as unmodified runs of retained slices, counts each in the
 * {@link TransactionTracker}, renames prepared statements to their shared server-side names through the
 * {@link StatementRouter}, and records what answer each expects for the {@link ResponseRelay}.
 */
final class RequestRelay {
    private static final Logger LOG = Logger.getLogger(RequestRelay.class);

    private final ClientSession s;
    private final TransactionTracker tx;
    private final StatementRouter router;

    RequestRelay(ClientSession s) {
        this.s = s;
        this.tx = s.tx;
        this.router = s.router;
    }

    /** Data while holding no backend: lease one if a complete message needs the server. */
    void onIdle() {
        MessageFrameDecoder frames = s.clientFrames;
        while (s.state.holdsNothing()) {
            int frame;
            try {
                frame = frames.next();
            } catch (ProtocolException e) {
                s.end.protocolViolation(e);
                return;
            }
            if (frame == FrameDecoder.NEED_MORE) {
                frames.releaseIfEmpty();
                return;
            }
            ByteBuf inbound = frames.buffer();
            byte type = inbound.getByte(inbound.readerIndex());
            if (type == ProtocolCodes.TERMINATE) {
                inbound.skipBytes(frame);
                s.end.close();
                return;
            }
            if (type == ProtocolCodes.COPY_DATA || type == ProtocolCodes.COPY_DONE || type == ProtocolCodes.COPY_FAIL
                    || type == ProtocolCodes.FLUSH) {
                // No backend of this client is in COPY (its ReadyForQuery came): these are the rest of a COPY the
                // server ended with an error, which PostgreSQL ignores and answers with nothing (PostgresMain: "we
                // probably got here because a COPY failed"). A Flush with nothing outstanding has nothing to send
                // either. Leasing a backend for them would hold it for nothing (until a Sync, for the Flush).
                inbound.skipBytes(frame);
                s.rest();
                continue;
            }
            if (s.state == SessionState.SKIPPING_TO_SYNC) {
                // after a failed lease, the rest of that extended-protocol batch is skipped up to its Sync
                inbound.skipBytes(frame);
                if (type == ProtocolCodes.SYNC) {
                    s.to(Event.SYNC_SKIPPED);
                    s.rest();
                    ByteBuf out = s.ch.alloc().buffer(6);
                    ServerMessages.readyForQuery(out, (byte) 'I');
                    s.ch.writeAndFlush(out, s.ch.voidPromise());
                }
                continue;
            }
            if (type == ProtocolCodes.QUERY && s.transactionMode
                    && router.deallocate(null, inbound, inbound.readerIndex(), inbound.readerIndex() + frame)) {
                inbound.skipBytes(frame); // answered without a backend
                s.deferClientFlush();
                continue;
            }
            // While waiting, reading goes on (toggling it costs two epoll_ctl calls per transaction); a client
            // that sends more than WAIT_BUFFER_LIMIT meanwhile is paused in channelRead.
            s.to(Event.REQUEST);
            s.pool.acquire(s.ch.eventLoop(), s);
            return;
        }
    }

    /**
     * Relays every complete client message kept by {@code clientFrames} to the leased backend, unmodified runs as one
     * retained slice. Named statements are renamed to their shared server-side names (and prepared on this
     * backend first where it lacks them); everything relayed is recorded in the router's responses.
     */
    void relay() {
        if (router.shapes.waiting() || s.relayHeld) {
            return; // resumed when the server described the copy (ResponseRelay), or pgferry's query is over
        }
        ServerConnection c = s.leased;
        MessageFrameDecoder frames = s.clientFrames;
        ByteBuf in = frames.buffer();
        if (in == null) {
            return;
        }
        final int start = in.readerIndex();
        int runStart = start;
        try {
            relay:
            while (true) {
                int ri = in.readerIndex();
                int frame = frames.next();
                if (frame == FrameDecoder.NEED_MORE) {
                    break;
                }
                int end = ri + frame;
                byte type = in.getByte(ri);
                if (tx.skipping() && skippedAfterError(type)) {
                    // PostgreSQL skips it unanswered (PostgresMain's ignore_till_sync, Query and FunctionCall
                    // too): relayed as is, with nothing expected back, no statement recorded, nothing answered here
                    tx.unsyncedSent();
                    in.readerIndex(end);
                    continue;
                }
                boolean rewritten = false;
                switch (type) {
                    case ProtocolCodes.QUERY -> {
                        if (s.transactionMode && !tx.unsynced() && !tx.copyIn() && router.deallocate(c, in, ri, end)) {
                            writeRun(c, in, runStart, ri);
                            rewritten = true; // answered here, in order
                            break;
                        }
                        StatementInspector.Findings f = StatementInspector.inspect(in, ri + 5, end);
                        if (f != null && (copiesListensFirst(c, f) || ListenFanout.subscribesFirst(s, f))) {
                            writeRun(c, in, runStart, ri);
                            runStart = ri; // relayed once the backend or the fan-out's listener LISTENs
                            break relay;
                        }
                        tx.requestSent();
                        s.txEffects.requestStart();
                        c.unnamedOwner = null; // a simple query destroys the unnamed statement
                        // a RESET of a startup parameter with more statements after it: see ResetToStartup
                        ResetPlan plan = f != null && s.transactionMode && f.resetsAny()
                                ? ResetToStartup.plan(in, ri + 5, end, s.params,
                                        tx.status() == 'T' && tx.pending() == 1) : null;
                        if (plan != null && plan.holdsStartupReports && tx.pending() != 1) {
                            plan = null; // a fixup runs only when nothing else is in flight
                        }
                        router.responses.add(ResponseQueue.QUERY, plan);
                        if (SchemaEpoch.isSchemaChangeText(in, ri + 5, end)) {
                            router.schemaChange();
                        }
                        if (f != null && runs(f, true)) {
                            writeRun(c, in, runStart, ri);
                            rejectPinning(c, in, ri, frame, pinReason(f));
                            rewritten = true;
                        } else if (plan != null && plan.text != null) {
                            writeRun(c, in, runStart, ri);
                            ByteBuf out = s.ch.alloc().buffer(plan.text.length + 6);
                            out.writeByte(ProtocolCodes.QUERY).writeInt(plan.text.length + 5);
                            out.writeBytes(plan.text).writeByte(0);
                            c.channel().write(out, c.channel().voidPromise());
                            s.backendFlush = true;
                            rewritten = true;
                        }
                    }
                    case ProtocolCodes.SYNC -> {
                        if (tx.syncSent()) {
                            s.txEffects.requestStart();
                            router.responses.add(ResponseQueue.SYNC, null);
                        }
                    }
                    case ProtocolCodes.FUNCTION_CALL -> {
                        tx.requestSent();
                        router.responses.add(ResponseQueue.FUNCTION, null);
                    }
                    case ProtocolCodes.PARSE -> {
                        int nameEnd = MessageReader.skipCstring(in, ri + 5, end);
                        // what the statement does to the session is found once, here, and applies at each Bind
                        StatementInspector.Findings f = StatementInspector.inspectShared(in, nameEnd, end);
                        if (f != null && (copiesListensFirst(c, f) || ListenFanout.subscribesFirst(s, f))) {
                            writeRun(c, in, runStart, ri);
                            runStart = ri; // relayed once the backend or the fan-out's listener LISTENs
                            break relay;
                        }
                        tx.unsyncedSent();
                        if (SchemaEpoch.isSchemaChangeText(in, nameEnd, end)) {
                            router.schemaChange(); // a named Parse pipelined behind it joins the new generation
                        }
                        if (f != null && pinRefused(f)) {
                            writeRun(c, in, runStart, ri);
                            router.responses.add(ResponseQueue.PARSE, null);
                            rejectPinning(c, in, ri, frame, pinReason(f));
                            rewritten = true;
                        } else if (f != null && s.transactionMode && f.resetsAny()
                                && parseWithStartupValue(c, in, runStart, ri, nameEnd, end, f)) {
                            rewritten = true;
                        } else if (nameEnd == ri + 6 || !s.transactionMode) {
                            // relayed as is: the unnamed statement (remembered, to re-parse it on another backend),
                            // and in session mode every statement, under the client's own name on its own backend
                            if (nameEnd == ri + 6) {
                                // also in session mode: pgferry's own queries (a fixup) destroy it, see InternalQuery
                                router.rememberUnnamed(c, in, nameEnd, end, f);
                                router.resetTags.unnamedStatement = false;
                            } else {
                                router.sessionParse(in, ri + 5, nameEnd, f);
                            }
                            router.responses.add(ResponseQueue.PARSE, null);
                        } else {
                            writeRun(c, in, runStart, ri);
                            router.namedParse(c, in, ri, nameEnd, end, f, tx.status() == 'E');
                            rewritten = true;
                        }
                    }
                    case ProtocolCodes.BIND -> {
                        int stmt = MessageReader.skipCstring(in, ri + 5, end);
                        StatementInspector.Findings listens = s.transactionMode ? router.listenEffect(in, stmt, end)
                                : null;
                        if (listens != null && ListenFanout.subscribesFirst(s, listens)) {
                            writeRun(c, in, runStart, ri);
                            runStart = ri; // relayed once the fan-out's listener LISTENs, as at the Parse
                            break relay;
                        }
                        tx.unsyncedSent();
                        PreparedStatement ps = null;
                        StatementInspector.Findings effect;
                        if (!s.transactionMode && in.getByte(stmt) != 0) {
                            effect = router.sessionEffect(in, stmt, end);
                        } else if (in.getByte(stmt) == 0) {
                            if (router.bindUnnamed(c, in, runStart, ri)) {
                                runStart = ri;
                            }
                            effect = router.unnamedEffect();
                        } else {
                            rewritten = router.rewriteStatementName(c, in, runStart, ri, stmt, end);
                            if (router.shapes.waiting()) {
                                runStart = ri; // this Bind waits for the server's description (ShapeCheck)
                                break relay;
                            }
                            ps = rewritten ? router.lastStatement() : null;
                            effect = ps == null ? null : ps.effect;
                        }
                        if (s.transactionMode) {
                            router.resetTags.bound(in, ri, in.getByte(stmt) == 0 ? router.resetTags.unnamedStatement
                                    : ps != null && ps.tagReset);
                        }
                        if (in.getByte(ri + 5) == 0) {
                            router.shapes.boundUnnamedPortal(ps);
                        }
                        router.responses.add(ResponseQueue.BIND, ps);
                        if (effect != null) {
                            runs(effect, false); // as a Query of its text; a refused pin was refused at its Parse
                        }
                    }
                    case ProtocolCodes.DESCRIBE -> {
                        tx.unsyncedSent();
                        if (in.getByte(ri + 5) == 'S' && in.getByte(ri + 6) == 0) {
                            if (router.restoreUnnamed(c, in, runStart, ri)) {
                                runStart = ri;
                            }
                        } else if (in.getByte(ri + 5) == 'S') {
                            rewritten = router.rewriteStatementName(c, in, runStart, ri, ri + 6, end);
                            if (router.shapes.waiting()) {
                                runStart = ri; // this Describe waits for the server's description (ShapeCheck)
                                break relay;
                            }
                        } else if (in.getByte(ri + 6) == 0) {
                            // the unnamed portal: its description gives the row shape of the statement it came from
                            router.responses.add(ResponseQueue.DESCRIBE, router.shapes.portalStatement());
                            break;
                        }
                        router.responses.add(ResponseQueue.DESCRIBE, rewritten ? router.lastStatement() : null);
                    }
                    case ProtocolCodes.CLOSE -> {
                        tx.unsyncedSent();
                        if (in.getByte(ri + 5) == 'S' && in.getByte(ri + 6) != 0 && s.transactionMode) {
                            // the server-side statement is shared: forget the client's name, answer here
                            writeRun(c, in, runStart, ri);
                            router.closeNamed(MessageReader.cstring(in, ri + 6, end));
                            rewritten = true;
                        } else {
                            router.responses.add(ResponseQueue.CLOSE, null);
                        }
                    }
                    case ProtocolCodes.EXECUTE -> {
                        tx.unsyncedSent();
                        router.execute(in, ri);
                    }
                    // Flush asks for output and is followed by more and a Sync: the backend is not clean before it.
                    case ProtocolCodes.FLUSH -> tx.unsyncedSent();
                    // Outside COPY the server ignores these and waits for nothing: they leave the count as it is.
                    case ProtocolCodes.COPY_DONE, ProtocolCodes.COPY_FAIL -> tx.copyEndSent();
                    case ProtocolCodes.COPY_DATA -> {
                        // relayed as is
                    }
                    case ProtocolCodes.TERMINATE -> {
                        writeRun(c, in, runStart, ri);
                        in.readerIndex(end);
                        s.end.close();
                        return;
                    }
                    default -> throw new ProtocolException(SqlState.PROTOCOL_VIOLATION,
                            "invalid frontend message type " + (type & 0xff));
                }
                in.readerIndex(end);
                if (rewritten) {
                    runStart = end;
                }
            }
        } catch (ProtocolException e) {
            // a refused length leaves in alive until the session ends (holdRefusedRead): what came before it goes on
            writeRun(c, in, runStart, in.readerIndex());
            s.end.protocolViolation(e);
            return;
        }
        s.backendFlush |= in.readerIndex() > runStart;
        Slices.relayRest(c.channel(), frames, start, runStart);
        if (!c.channel().isWritable()) {
            s.ch.config().setAutoRead(false);
        }
    }

    private static boolean skippedAfterError(byte type) {
        return switch (type) {
            case ProtocolCodes.QUERY, ProtocolCodes.FUNCTION_CALL, ProtocolCodes.PARSE, ProtocolCodes.BIND,
                    ProtocolCodes.DESCRIBE, ProtocolCodes.CLOSE, ProtocolCodes.EXECUTE, ProtocolCodes.FLUSH,
                    ProtocolCodes.COPY_DATA, ProtocolCodes.COPY_DONE, ProtocolCodes.COPY_FAIL -> true;
            default -> false;
        };
    }

    /**
     * A Parse at {@code ri} of a RESET (or SET TO DEFAULT) of a startup parameter: sent as a SET of its startup value
     * ({@link ResetToStartup#parse}), named or unnamed, after the run before it. Returns false to relay it as it is.
     */
    private boolean parseWithStartupValue(ServerConnection c, ByteBuf in, int runStart, int ri, int nameEnd, int end,
            StatementInspector.Findings f) throws ProtocolException {
        int textEnd = MessageReader.skipCstring(in, nameEnd, end);
        ResetToStartup.Parsed reset = ResetToStartup.parse(in, nameEnd, textEnd - 1, s.params);
        if (reset == null) {
            return false;
        }
        writeRun(c, in, runStart, ri);
        ByteBuf p = s.ch.alloc().buffer(end - ri + reset.text().length);
        p.writeByte(ProtocolCodes.PARSE).writeInt(0);
        p.writeBytes(in, ri + 5, nameEnd - ri - 5);
        p.writeBytes(reset.text()).writeByte(0);
        p.writeBytes(in, textEnd, end - textEnd);
        p.setInt(1, p.writerIndex() - 1);
        int pNameEnd = nameEnd - ri;
        if (nameEnd == ri + 6) {
            router.rememberUnnamed(c, p, pNameEnd, p.writerIndex(), f);
            router.resetTags.unnamedStatement = reset.tagReset();
            router.responses.add(ResponseQueue.PARSE, null);
            c.channel().write(p, c.channel().voidPromise());
            s.backendFlush = true;
        } else {
            try {
                router.namedParse(c, p, 0, pNameEnd, p.writerIndex(), f, tx.status() == 'E', reset.tagReset());
            } finally {
                p.release();
            }
        }
        in.readerIndex(end);
        return true;
    }

    void writeRun(ServerConnection c, ByteBuf in, int from, int to) {
        s.backendFlush |= Slices.write(c.channel(), in, from, to);
    }

    /**
     * What running a statement does to the session: a simple Query's findings ({@code fresh}, owned here) or those a
     * prepared statement got at its Parse, at each Bind of it. Returns true if it must not be sent (it would pin the
     * session and pinning is rejected).
     */
    private boolean runs(StatementInspector.Findings f, boolean fresh) {
        if (pinRefused(f)) {
            return true;
        }
        int pending = tx.pending();
        if (f.dropsPrepared) {
            // DISCARD ALL / DEALLOCATE ALL: the server drops this backend's statements, the client forgets its names
            router.forgetAll(s.leased, fresh ? pending - 1 : pending); // requests ahead of its own
        }
        if (fresh) {
            // alone: nothing else is answered before this Query's tags, which tell its transaction ends apart
            s.txEffects.adopt(f, pending == 1 && router.responses.size() == 1);
        } else {
            s.txEffects.add(f);
        }
        if (f.loadsLibrary && s.keepsBackend()) {
            s.leased.markBroken(); // closed, not reset, when this client leaves: see SessionReset
        }
        return false;
    }

    /** Pins the session for a statement that needs it, unless pinning is rejected: then returns true. */
    private boolean pinRefused(StatementInspector.Findings f) {
        String reason = pinReason(f);
        if (reason != null && !s.pinned && s.transactionMode) {
            if (rejects(f, reason)) {
                return true;
            }
            s.pinned = true;
            s.sc.pinnedSessions.increment();
            LOG.infof("%s pinned to its server connection by %s (pool %s)", s.id, reason, s.pool.key());
            PinnedListens.pinned(s, f, reason);
        }
        return false;
    }

    private boolean rejects(StatementInspector.Findings f, String reason) {
        return s.sc.config.pool().pinning() == Pinning.REJECT
                || (f.pinReason == null && reason.equals("LISTEN") && listenRejected());
    }

    /**
     * Whether {@code f} pins a client with fan-out channels while its backend is at rest: the backend LISTENs on them
     * first ({@link PinnedListens}), and the statement waits.
     */
    private boolean copiesListensFirst(ServerConnection c, StatementInspector.Findings f) {
        if (!PinnedListens.needed(s)) {
            return false;
        }
        String reason = pinReason(f);
        return reason != null && !rejects(f, reason) && PinnedListens.copyFirst(s, c);
    }

    /**
     * Why {@code f} pins: its own reason; a LISTEN where {@code pgferry.pool.listen} is not {@code fanout}; or
     * {@code pg_listening_channels()} by a client with channels on the fan-out's listener, which its backend does not
     * know (without any, the backend's answer is exact: it listens on what this lease committed, as the client did).
     */
    private String pinReason(StatementInspector.Findings f) {
        if (f.pinReason != null || !s.transactionMode) {
            return f.pinReason;
        }
        if (f.listenOps != null && s.sc.config.pool().listen() != ListenMode.FANOUT && f.listens()) {
            return "LISTEN";
        }
        if (f.readsListening && s.inbox != null && !s.inbox.channels().isEmpty()) {
            return "pg_listening_channels()";
        }
        return null;
    }

    private boolean listenRejected() {
        return s.sc.config.pool().listen() == ListenMode.REJECT;
    }

    /** Replaces a pinning statement by one the server rejects, so the error lands where PostgreSQL would put it. */
    private void rejectPinning(ServerConnection c, ByteBuf in, int ri, int frame, String reason) {
        String setting = s.sc.config.pool().pinning() != Pinning.REJECT && listenRejected() ? "pgferry.pool.listen"
                : "pgferry.pool.pinning";
        String message = "pgferry: " + reason + " is not allowed in transaction pooling mode: it would tie this"
                + " session to one server connection (" + setting + "=reject)";
        String sql = "DO $pgferry$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = "
                + SessionParameters.literal(message) + "; END$pgferry$";
        ByteBuf out = s.ch.alloc().buffer(sql.length() + 32);
        if (in.getByte(ri) == ProtocolCodes.QUERY) {
            FrontendMessages.query(out, sql);
        } else {
            // Parse: keep the statement name, replace the text, declare no parameter types
            int nameEnd = in.indexOf(ri + 5, ri + frame, (byte) 0);
            int start = out.writerIndex();
            out.writeByte(ProtocolCodes.PARSE).writeInt(0);
            out.writeBytes(in, ri + 5, nameEnd - ri - 5 + 1);
            out.writeCharSequence(sql, StandardCharsets.UTF_8);
            out.writeByte(0).writeShort(0);
            out.setInt(start + 1, out.writerIndex() - start - 1);
        }
        c.channel().write(out, c.channel().voidPromise());
        s.backendFlush = true;
        in.readerIndex(ri + frame);
    }
}
