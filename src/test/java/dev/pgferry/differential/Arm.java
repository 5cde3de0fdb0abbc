package dev.pgferry.differential;

import java.util.List;
import java.util.Map;

/**
 * One side of the comparison — through pgferry, or straight to PostgreSQL — with one way of talking (raw wire,
 * pgjdbc, Vert.x, psycopg, node-postgres). It opens the connections of the logical clients, and names the table its
 * SQL's {@code {t}} stands for.
 */
interface Arm extends AutoCloseable {

    /** The table this arm's ops use: each arm has its own, so one arm's ALTER TABLE cannot reach the other. */
    String table();

    /** Connects a client with these startup parameters. */
    Client open(Map<String, String> startup) throws Exception;

    @Override
    default void close() {}

    /**
     * One logical client's connection on this arm. Every method answers with observations: short strings, equal on
     * both arms exactly when the arms behaved alike. Values that legitimately differ between the arms (backend
     * process ids, keys, the table's OID) never enter an observation.
     */
    interface Client extends AutoCloseable {

        /** What logging in showed (reported parameters, or the error). */
        List<String> login();

        List<String> run(Op op) throws Exception;

        /**
         * What the client can see of its session now: {@code current_setting} of every parameter in {@code params}
         * (missing_ok, so an unset custom variable reads NULL), the transaction status where the client knows it,
         * and the reported parameters as the client last heard them.
         */
        List<String> probe(List<Param> params) throws Exception;

        /** 'I', 'T' or 'E' as the last ReadyForQuery said; '?' where the client cannot know. */
        char transactionStatus();

        @Override
        void close();
    }

    /** The probe's query: one row of every parameter's value. */
    static String probeSql(List<Param> params) {
        StringBuilder sb = new StringBuilder("select ");
        for (int i = 0; i < params.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append("current_setting('").append(params.get(i).name()).append("', true) as p")
                    .append(i);
        }
        return sb.toString();
    }
}
