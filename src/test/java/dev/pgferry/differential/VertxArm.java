package dev.pgferry.differential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The Vert.x PostgreSQL client with its defaults: simple ops through {@code query()} (the simple protocol), extended
 * ones through {@code preparedQuery()}, named ops through {@code prepare()} (a server-side named statement, run again
 * and again), and a pipeline as all its queries sent before the first answer (the client pipelines by default). It
 * cannot tell its transaction status, so the probe's errors (25P02 in a failed transaction) stand for it.
 */
final class VertxArm implements Arm {
    private final Vertx vertx = Vertx.vertx();
    private final String host;
    private final int port;
    private final String table;

    VertxArm(String host, int port, String table) {
        this.host = host;
        this.port = port;
        this.table = table;
    }

    @Override
    public String table() {
        return table;
    }

    @Override
    public Client open(Map<String, String> startup) {
        PgConnectOptions o = new PgConnectOptions().setHost(host).setPort(port).setDatabase(Tables.DATABASE)
                .setUser(Tables.USER).setPassword(Tables.PASSWORD).setProperties(new HashMap<>(startup));
        return new VertxClient(o);
    }

    @Override
    public void close() {
        await(vertx.close());
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String error(RuntimeException e) {
        return e instanceof PgException p ? "error " + p.getSqlState() : "failure " + e.getClass().getSimpleName();
    }

    final class VertxClient implements Client {
        private PgConnection c;
        private final List<String> login = new ArrayList<>();
        private final Map<String, PreparedStatement> named = new HashMap<>();

        VertxClient(PgConnectOptions o) {
            try {
                c = await(PgConnection.connect(vertx, o));
                login.add("connected");
            } catch (RuntimeException e) {
                login.add("login failed " + error(e));
            }
        }

        @Override
        public List<String> login() {
            return login;
        }

        @Override
        public char transactionStatus() {
            return '?';
        }

        @Override
        public List<String> run(Op op) {
            if (c == null) {
                return List.of("not connected");
            }
            List<String> out = new ArrayList<>();
            try {
                if (op instanceof Op.Simple s) {
                    results(await(c.query(sql(s.sql())).execute()), out);
                } else if (op instanceof Op.Unnamed u) {
                    results(await(c.preparedQuery(sql(u.sql())).execute()), out);
                } else if (op instanceof Op.Flushed f) {
                    results(await(c.preparedQuery(sql(f.sql())).execute()), out);
                } else if (op instanceof Op.Prepare p) {
                    PreparedStatement old = named.remove(p.name());
                    if (old != null) {
                        await(old.close());
                    }
                    named.put(p.name(), await(c.prepare(sql(p.sql()))));
                    out.add("prepared");
                } else if (op instanceof Op.Run r) {
                    PreparedStatement ps = named.get(r.name());
                    if (ps == null) {
                        out.add("no statement " + r.name());
                    } else {
                        results(await(ps.query().execute()), out);
                    }
                } else if (op instanceof Op.Close cl) {
                    PreparedStatement ps = named.remove(cl.name());
                    if (ps != null) {
                        await(ps.close());
                    }
                    out.add("closed");
                } else if (op instanceof Op.Pipeline p) {
                    List<Future<RowSet<Row>>> all = new ArrayList<>();
                    for (String sql : p.statements()) {
                        all.add(c.preparedQuery(sql(sql)).execute());
                    }
                    for (Future<RowSet<Row>> f : all) {
                        try {
                            results(await(f), out);
                        } catch (RuntimeException e) {
                            out.add(error(e));
                        }
                    }
                }
            } catch (RuntimeException e) {
                out.add(error(e));
            }
            return out;
        }

        private void results(RowSet<Row> rs, List<String> out) {
            for (RowSet<Row> r = rs; r != null; r = r.next()) {
                List<ColumnDescriptor> cols = r.columnDescriptors();
                if (cols == null || cols.isEmpty()) {
                    out.add("count " + r.rowCount());
                    continue;
                }
                out.add("columns " + cols.stream().map(d -> d.name() + ":" + d.typeName()).toList());
                for (Row row : r) {
                    List<String> values = new ArrayList<>();
                    for (int i = 0; i < row.size(); i++) {
                        values.add(String.valueOf(row.getValue(i)));
                    }
                    out.add("row " + values);
                }
            }
        }

        @Override
        public List<String> probe(List<Param> params) {
            return run(new Op.Simple(Arm.probeSql(params)));
        }

        private String sql(String sql) {
            return Op.on(sql, table);
        }

        @Override
        public void close() {
            if (c != null) {
                try {
                    await(c.close());
                } catch (RuntimeException ignored) {
                    // closing anyway
                }
                c = null;
            }
        }
    }
}
