package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The pure parts of the stale-statement handling: which errors mean a stale statement, and a stored effect's reuse. */
class StaleStatementUnitTest {
    static boolean stale(String code) {
        ByteBuf b = ServerMessages.errorResponse(ByteBufAllocator.DEFAULT, "ERROR", code, "m");
        try {
            return PlanInvalidation.isStale(b, 0, b.writerIndex());
        } finally {
            b.release();
        }
    }

    @Test
    void invalidationCodesAreStaleOthersAreNot() {
        assertThat(stale("0A000")).isTrue();
        assertThat(stale("XX000")).isTrue();
        assertThat(stale("26000")).isTrue();
        assertThat(stale("22P02")).isFalse();
        assertThat(stale("42P01")).isFalse();
    }

    static byte[] marker(String code) {
        ByteBuf b = ServerMessages.errorResponse(ByteBufAllocator.DEFAULT, "ERROR", code, "m");
        try {
            return PlanInvalidation.marker(b, 0, b.writerIndex());
        } finally {
            b.release();
        }
    }

    /** A statement the server lacks is prepared again under its name; an outdated copy is kept, as on PostgreSQL. */
    @Test
    void aMissingStatementIsGoneAnOutdatedOneIsStale() {
        assertThat(marker("26000")).isSameAs(SharedStatements.GONE);
        assertThat(marker("0A000")).isSameAs(SharedStatements.STALE);
        assertThat(marker("XX000")).isSameAs(SharedStatements.STALE);
        assertThat(marker("42601")).isNull();
    }

    @Test
    void rollbackTagIsRecognisedOnlyWhenStatementsAreUnsettled() {
        UnsettledStatements u = new UnsettledStatements();
        ByteBuf cc = Unpooled.buffer();
        ServerMessages.commandComplete(cc, "ROLLBACK");
        u.commandComplete(cc, 0, cc.writerIndex());
        assertThat(u.outcome()).isEqualTo(UnsettledStatements.Outcome.OPEN);
        u.prepared("pgf_x");
        ByteBuf commit = Unpooled.copiedBuffer("C\0\0\0\u000bCOMMIT\0", StandardCharsets.US_ASCII);
        u.commandComplete(commit, 0, commit.writerIndex());
        assertThat(u.outcome()).isEqualTo(UnsettledStatements.Outcome.OPEN);
        u.commandComplete(cc, 0, cc.writerIndex());
        assertThat(u.outcome()).isEqualTo(UnsettledStatements.Outcome.ROLLED_BACK);
        u.clear();
        assertThat(u.size()).isZero();
        assertThat(u.outcome()).isEqualTo(UnsettledStatements.Outcome.OPEN);
    }

    @Test
    void aStoredEffectIsNotChangedByTheTransactionsThatRunIt() {
        StatementInspector.Findings stored = StatementInspector.inspect("set statement_timeout = '1s'");
        TransactionEffects tx = new TransactionEffects();
        tx.add(stored);
        tx.adopt(StatementInspector.inspect("reset all"), true);
        tx.readyForQuery((byte) 'I');
        assertThat(tx.take().resetAll).isTrue();
        assertThat(stored.resetAll).isFalse();
        assertThat(stored.touched).containsExactly("statement_timeout");
    }
}
