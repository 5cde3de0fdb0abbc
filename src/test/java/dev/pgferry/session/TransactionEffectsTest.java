package dev.pgferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgferry.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/**
 * What a transaction's outcome does to the findings of the statements it ran: PostgreSQL reverts every SET and
 * RESET of a transaction that rolls back, so their findings are void then, and only when nothing else the client
 * sent could have run after the rollback.
 */
class TransactionEffectsTest {
    static void tag(TransactionEffects tx, String tag, boolean last) {
        ByteBuf cc = Unpooled.buffer();
        ServerMessages.commandComplete(cc, tag);
        tx.commandComplete(cc, 0, cc.writerIndex(), last);
        cc.release();
    }

    static TransactionEffects running(String sql) {
        TransactionEffects tx = new TransactionEffects();
        query(tx, sql);
        return tx;
    }

    static void query(TransactionEffects tx, String sql) {
        tx.requestStart();
        StatementInspector.Findings f = StatementInspector.inspect(sql);
        if (f != null) {
            tx.adopt(f, true);
        }
    }

    @Test
    void anImplicitTransactionThatFailedLeavesNothing() {
        TransactionEffects tx = running("select * from missing; RESET ALL");
        tx.error(true);
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        assertThat(tx.take()).isNull();
    }

    @Test
    void aCommittedTransactionKeepsItsFindings() {
        TransactionEffects tx = running("RESET ALL");
        tag(tx, "RESET", true);
        assertThat(tx.readyForQuery((byte) 'I')).isFalse();
        assertThat(tx.take().resetAll).isTrue();
    }

    @Test
    void aRolledBackBlockLeavesNothingAndAFailedCommitIsARollback() {
        TransactionEffects tx = running("BEGIN; RESET ALL");
        tx.readyForQuery((byte) 'T');
        query(tx, "COMMIT");
        tag(tx, "ROLLBACK", true); // COMMIT of an aborted block answers ROLLBACK
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        assertThat(tx.take()).isNull();
    }

    /**
     * "ROLLBACK; SET …" runs the SET in a transaction of its own, which commits; the RESET ALL before the ROLLBACK is
     * void (the query string's links tell the two apart).
     */
    @Test
    void aRollbackFollowedByStatementsInItsQueryStringKeepsTheirFindingsOnly() {
        TransactionEffects tx = running("BEGIN; RESET ALL");
        tx.readyForQuery((byte) 'T');
        query(tx, "ROLLBACK; SET statement_timeout = 5");
        tag(tx, "ROLLBACK", true);
        tag(tx, "SET", true);
        assertThat(tx.readyForQuery((byte) 'I')).isTrue();
        StatementInspector.Findings f = tx.take();
        assertThat(f.touched).containsExactly("statement_timeout");
        assertThat(f.resetAll).isFalse();
    }

    /** What follows a COMMIT in a query string and fails is not settled by that COMMIT (seed 1, step 147). */
    @Test
    void aCommitDoesNotSettleWhatFollowsItInTheQueryString() {
        TransactionEffects tx = running("BEGIN; SET statement_timeout = 5");
        tx.readyForQuery((byte) 'T');
        query(tx, "COMMIT; insert into t values (1); RESET TimeZone");
        tag(tx, "COMMIT", true);
        tx.error(true); // the insert failed: the RESET never ran
        tx.readyForQuery((byte) 'I');
        StatementInspector.Findings f = tx.take();
        assertThat(f.touched).containsExactly("statement_timeout");
        assertThat(f.resetNames).isEmpty();
    }

    /** A ROLLBACK TO SAVEPOINT in the string leaves both sides to the transaction's end, as before. */
    @Test
    void aRollbackToSavepointInTheQueryStringKeepsBothSides() {
        TransactionEffects tx = running("BEGIN; SAVEPOINT s; RESET TimeZone; ROLLBACK TO s; SET work_mem = 1");
        tag(tx, "BEGIN", true);
        tag(tx, "SAVEPOINT", true);
        tag(tx, "RESET", true);
        tag(tx, "ROLLBACK", true);
        tag(tx, "SET", true);
        tx.readyForQuery((byte) 'T');
        query(tx, "COMMIT");
        tag(tx, "COMMIT", true);
        tx.readyForQuery((byte) 'I');
        assertThat(tx.take().touched).containsExactly("timezone", "work_mem");
    }

    /** With other requests in flight the tags cannot be matched to the links: all kept, as before. */
    @Test
    void linksOfAQueryThatIsNotAloneAreMergedAtOnce() {
        TransactionEffects tx = new TransactionEffects();
        tx.requestStart();
        tx.adopt(StatementInspector.inspect("ROLLBACK; SET statement_timeout = 5"), false);
        tag(tx, "COMMIT", false); // another request's
        tag(tx, "ROLLBACK", false);
        tx.readyForQuery((byte) 'I');
        assertThat(tx.take().touched).containsExactly("statement_timeout");
    }

    @Test
    void whatCommittedBeforeAFailureInTheSameQueryStringIsKept() {
        TransactionEffects tx = running("BEGIN; SET statement_timeout = 5; COMMIT; select * from missing");
        tag(tx, "BEGIN", true);
        tag(tx, "SET", true);
        tag(tx, "COMMIT", true);
        tx.error(true);
        tx.readyForQuery((byte) 'I');
        assertThat(tx.take().touched).containsExactly("statement_timeout");
    }

    @Test
    void aTransactionRecoveredByRollbackToSavepointMayStillCommit() {
        TransactionEffects tx = running("BEGIN; SET statement_timeout = 5; SAVEPOINT s");
        tx.readyForQuery((byte) 'T');
        query(tx, "select * from missing");
        tx.error(true);
        tx.readyForQuery((byte) 'E');
        query(tx, "ROLLBACK TO SAVEPOINT s");
        tag(tx, "ROLLBACK", true);
        tx.readyForQuery((byte) 'T');
        query(tx, "COMMIT");
        tag(tx, "COMMIT", true);
        tx.readyForQuery((byte) 'I');
        assertThat(tx.take().touched).containsExactly("statement_timeout");
    }

    /** With requests still in flight, findings cannot be told apart by transaction: kept, read back, never lost. */
    @Test
    void aFailureWithMoreInFlightKeepsTheFindings() {
        TransactionEffects tx = running("SET statement_timeout = 5");
        tx.error(false);
        assertThat(tx.readyForQuery((byte) 'I')).isFalse();
        assertThat(tx.take().touched).containsExactly("statement_timeout");
    }

    /** A RESET in a transaction that goes on is handed back once, when its request is answered. */
    @Test
    void aResetOfAStartupParameterInAnOpenTransactionIsHandedBackOnce() {
        SessionParameters params = new SessionParameters(java.util.Map.of(), java.util.Map.of("statement_timeout", "5s"));
        TransactionEffects tx = running("BEGIN; RESET statement_timeout");
        assertThat(tx.requestAnswered((byte) 'T', params).resetNames).containsExactly("statement_timeout");
        query(tx, "select 1");
        assertThat(tx.requestAnswered((byte) 'T', params)).isNull();
    }

    @Test
    void aResetIsNotHandedBackWhenItRolledBackFailedOrEndedItsTransaction() {
        SessionParameters params = new SessionParameters(java.util.Map.of(), java.util.Map.of("statement_timeout", "5s"));
        TransactionEffects tx = running("RESET statement_timeout; ROLLBACK TO SAVEPOINT s");
        tag(tx, "ROLLBACK", true);
        assertThat(tx.requestAnswered((byte) 'T', params)).isNull();
        query(tx, "RESET statement_timeout");
        assertThat(tx.requestAnswered((byte) 'E', params)).isNull();
        query(tx, "RESET statement_timeout");
        assertThat(tx.requestAnswered((byte) 'I', params)).isNull();
        query(tx, "RESET work_mem");
        assertThat(tx.requestAnswered((byte) 'T', params)).as("not a startup parameter").isNull();
        query(tx, "RESET ALL; SET work_mem = 1");
        assertThat(tx.requestAnswered((byte) 'T', params).resetAll).isTrue();
    }

    /** An extended request's findings come with its Bind, before its Sync: they are the request's all the same. */
    @Test
    void findingsBeforeTheSyncBelongToTheRequestItEnds() {
        SessionParameters params = new SessionParameters(java.util.Map.of(), java.util.Map.of("statement_timeout", "5s"));
        TransactionEffects tx = new TransactionEffects();
        tx.add(StatementInspector.inspect("RESET statement_timeout"));
        tx.requestStart(); // its Sync
        assertThat(tx.requestAnswered((byte) 'T', params)).isNotNull();
    }
}
