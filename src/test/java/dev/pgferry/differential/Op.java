package dev.pgferry.differential;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One thing a logical client does, the same on both arms. SQL text may name the arm's own table as {@code {t}}
 * (each arm has one, so DDL on one arm cannot change what the other sees). Every op ends at a ReadyForQuery, so the
 * harness may observe the client between two ops.
 */
sealed interface Op {

    /** A simple-protocol Query; may hold several statements. */
    record Simple(String sql) implements Op {}

    /** Extended protocol with the unnamed statement and portal: Parse, Bind, Describe portal, Execute, Sync. */
    record Unnamed(String sql) implements Op {}

    /** Parse of a named statement, Describe of it, Sync. */
    record Prepare(String name, String sql) implements Op {}

    /** Bind of a named statement to the unnamed portal, Describe portal, Execute, Sync: run it once more. */
    record Run(String name) implements Op {}

    /** Close of a named statement, Sync. */
    record Close(String name) implements Op {}

    /** Several unnamed Parse/Bind/Execute groups, each ended by a Sync, sent in one write (a pipeline). */
    record Pipeline(List<String> statements) implements Op {}

    /** Parse, Bind, Describe, Execute, Flush; the results read before the Sync is sent. */
    record Flushed(String sql) implements Op {}

    /** The client disconnects and logs in again with these startup parameters (name to value). */
    record Reconnect(Map<String, String> startup) implements Op {
        public Reconnect {
            startup = new TreeMap<>(startup);
        }
    }

    /** The op as JSON, as the script arms (psycopg, node-postgres) read it. */
    default JsonObject toJson() {
        if (this instanceof Simple s) {
            return new JsonObject().put("kind", "simple").put("sql", s.sql());
        } else if (this instanceof Unnamed u) {
            return new JsonObject().put("kind", "unnamed").put("sql", u.sql());
        } else if (this instanceof Prepare p) {
            return new JsonObject().put("kind", "prepare").put("name", p.name()).put("sql", p.sql());
        } else if (this instanceof Run r) {
            return new JsonObject().put("kind", "run").put("name", r.name());
        } else if (this instanceof Close c) {
            return new JsonObject().put("kind", "close").put("name", c.name());
        } else if (this instanceof Pipeline p) {
            return new JsonObject().put("kind", "pipeline").put("statements", new JsonArray(p.statements()));
        } else if (this instanceof Flushed f) {
            return new JsonObject().put("kind", "flushed").put("sql", f.sql());
        }
        Reconnect r = (Reconnect) this;
        return new JsonObject().put("kind", "reconnect").put("startup", new JsonObject(new TreeMap<String, Object>(r.startup())));
    }

    /** {@code sql} with {@code {t}} replaced by {@code table}. */
    static String on(String sql, String table) {
        return sql.replace("{t}", table);
    }
}
