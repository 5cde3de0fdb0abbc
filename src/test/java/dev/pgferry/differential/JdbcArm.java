package dev.pgferry.differential;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.postgresql.Driver;
import org.postgresql.PGConnection;
import org.postgresql.core.BaseConnection;

/**
 * pgjdbc with its defaults but {@code prepareThreshold}: 0 never prepares on the server, 1 from the first run, 5 (the
 * default) from the fifth, -1 forces server-prepared statements everywhere. Simple ops go through
 * {@link Statement#execute}, extended ones through a {@link PreparedStatement} (named ops keep theirs, run again and
 * again, as an application would), a pipeline is its statements one after another.
 */
record JdbcArm(String host, int port, String user, String password, String database, int prepareThreshold, String table)
        implements Arm {

    // not DriverManager: after a @QuarkusTest ran, its registered driver belongs to another class loader
    private static final Driver DRIVER = new Driver();

    @Override
    public Client open(Map<String, String> startup) {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("prepareThreshold", String.valueOf(prepareThreshold));
        p.setProperty("socketTimeout", "30");
        StringBuilder options = new StringBuilder();
        startup.forEach((k, v) -> {
            if (k.equals("application_name")) {
                p.setProperty("ApplicationName", v);
            } else if (k.equals("options")) {
                options.append(options.length() == 0 ? "" : " ").append(v);
            } else {
                options.append(options.length() == 0 ? "" : " ").append("-c ").append(k).append('=')
                        .append(v.replace(" ", "\\ "));
            }
        });
        if (options.length() > 0) {
            p.setProperty("options", options.toString());
        }
        return new JdbcClient(this, p);
    }

    static final class JdbcClient implements Client {
        private final String table;
        private Connection c;
        private final List<String> login = new ArrayList<>();
        private final Map<String, PreparedStatement> named = new HashMap<>();

        JdbcClient(JdbcArm arm, Properties p) {
            this.table = arm.table();
            try {
                c = DRIVER.connect("jdbc:postgresql://" + arm.host() + ":" + arm.port() + "/" + arm.database(), p);
                login.add("reported " + new TreeMap<>(c.unwrap(PGConnection.class).getParameterStatuses()));
            } catch (SQLException e) {
                login.add("login failed " + e.getSQLState());
            }
        }

        @Override
        public List<String> login() {
            return login;
        }

        @Override
        public char transactionStatus() {
            if (c == null) {
                return 'I';
            }
            try {
                return switch (c.unwrap(BaseConnection.class).getTransactionState()) {
                    case IDLE -> 'I';
                    case OPEN -> 'T';
                    case FAILED -> 'E';
                };
            } catch (SQLException e) {
                return '?';
            }
        }

        @Override
        public List<String> run(Op op) {
            List<String> out = new ArrayList<>();
            if (c == null) {
                return List.of("not connected");
            }
            try {
                if (op instanceof Op.Simple s) {
                    try (Statement st = c.createStatement()) {
                        results(st, st.execute(sql(s.sql())), out);
                    }
                } else if (op instanceof Op.Unnamed u) {
                    once(sql(u.sql()), out);
                } else if (op instanceof Op.Flushed f) {
                    once(sql(f.sql()), out);
                } else if (op instanceof Op.Prepare p) {
                    PreparedStatement old = named.put(p.name(), c.prepareStatement(sql(p.sql())));
                    if (old != null) {
                        old.close();
                    }
                    out.add("prepared");
                } else if (op instanceof Op.Run r) {
                    PreparedStatement ps = named.get(r.name());
                    if (ps == null) {
                        out.add("no statement " + r.name());
                    } else {
                        results(ps, ps.execute(), out);
                    }
                } else if (op instanceof Op.Close cl) {
                    PreparedStatement ps = named.remove(cl.name());
                    if (ps != null) {
                        ps.close();
                    }
                    out.add("closed");
                } else if (op instanceof Op.Pipeline p) {
                    for (String sql : p.statements()) {
                        try {
                            once(sql(sql), out);
                        } catch (SQLException e) {
                            out.add("error " + e.getSQLState());
                        }
                    }
                }
            } catch (SQLException e) {
                out.add("error " + e.getSQLState());
            } catch (RuntimeException e) {
                // pgjdbc failing to decode rows (of a shape it did not describe) is an observation like any other, so
                // that the run reports and shrinks it instead of ending with the exception
                out.add("driver failed " + e.getClass().getSimpleName());
            }
            out.add("status " + transactionStatus());
            return out;
        }

        private void once(String sql, List<String> out) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                results(ps, ps.execute(), out);
            }
        }

        /** Every result of the statement: columns (label and type) and rows, or the update count. */
        static void results(Statement st, boolean isResultSet, List<String> out) throws SQLException {
            while (true) {
                if (isResultSet) {
                    try (ResultSet rs = st.getResultSet()) {
                        ResultSetMetaData md = rs.getMetaData();
                        List<String> cols = new ArrayList<>();
                        for (int i = 1; i <= md.getColumnCount(); i++) {
                            cols.add(md.getColumnLabel(i) + ":" + md.getColumnTypeName(i));
                        }
                        out.add("columns " + cols);
                        while (rs.next()) {
                            List<String> row = new ArrayList<>();
                            for (int i = 1; i <= md.getColumnCount(); i++) {
                                Object v = rs.getObject(i);
                                // bytea comes as byte[] (whose toString is an identity hash)
                                row.add(v instanceof byte[] b ? java.util.HexFormat.of().formatHex(b) : rs.getString(i));
                            }
                            out.add("row " + row);
                        }
                    }
                } else {
                    int n = st.getUpdateCount();
                    if (n == -1) {
                        return;
                    }
                    out.add("count " + n);
                }
                isResultSet = st.getMoreResults();
            }
        }

        @Override
        public List<String> probe(List<Param> params) throws SQLException {
            List<String> out = run(new Op.Simple(Arm.probeSql(params)));
            if (c != null) {
                out.add("reported " + new TreeMap<>(c.unwrap(PGConnection.class).getParameterStatuses()));
            }
            return out;
        }

        private String sql(String sql) {
            return Op.on(sql, table);
        }

        @Override
        public void close() {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
                c = null;
            }
        }
    }
}
