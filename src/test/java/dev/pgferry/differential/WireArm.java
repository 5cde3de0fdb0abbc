package dev.pgferry.differential;

import static dev.pgferry.testing.RawWireClient.bind;
import static dev.pgferry.testing.RawWireClient.closeStatement;
import static dev.pgferry.testing.RawWireClient.concat;
import static dev.pgferry.testing.RawWireClient.cstring;
import static dev.pgferry.testing.RawWireClient.describeStatement;
import static dev.pgferry.testing.RawWireClient.execute;
import static dev.pgferry.testing.RawWireClient.message;
import static dev.pgferry.testing.RawWireClient.parse;
import static dev.pgferry.testing.RawWireClient.query;
import static dev.pgferry.testing.RawWireClient.sync;

import dev.pgferry.testing.RawWireClient;
import dev.pgferry.testing.RawWireClient.Msg;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The raw protocol-3.0 arm: every path is reached exactly as the op says (simple Query, the unnamed statement, named
 * statements run many times, pipelines of several Syncs, Flush before Sync), and every backend message is observed.
 */
record WireArm(String host, int port, String user, String password, String database, String table) implements Arm {

    /** How long one read may wait: a response that never comes is a divergence, not a hung build. */
    static final int READ_TIMEOUT_MILLIS = 10_000;

    @Override
    public Client open(Map<String, String> startup) {
        String[] params = startup.entrySet().stream().flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue()))
                .toArray(String[]::new);
        return new WireClient(this, params);
    }

    static final class WireClient implements Client {
        private final String table;
        private RawWireClient c;
        private final List<String> login = new ArrayList<>();
        /** Reported parameters as this client last heard them. */
        private final Map<String, String> reported = new TreeMap<>();
        private char status = 'I';

        WireClient(WireArm arm, String[] startup) {
            this.table = arm.table();
            try {
                c = RawWireClient.login(arm.host(), arm.port(), READ_TIMEOUT_MILLIS, arm.user(), arm.password(),
                        arm.database(), startup);
                WireObservations.describe(c.loginParameterStatus(), reported);
                login.add("reported " + reported);
            } catch (IOException e) {
                c = null;
                // "login failed: Error[S=FATAL V=FATAL C=22023 ...]": the SQLSTATE is what must match
                login.add("login failed " + sqlState(e.getMessage()));
            }
        }

        private static String sqlState(String message) {
            int at = message == null ? -1 : message.indexOf(" C=");
            return at < 0 ? String.valueOf(message) : message.substring(at + 3, message.indexOf(' ', at + 3));
        }

        @Override
        public List<String> login() {
            return login;
        }

        @Override
        public char transactionStatus() {
            return status;
        }

        @Override
        public List<String> run(Op op) throws IOException {
            if (c == null) {
                return List.of("not connected");
            }
            if (op instanceof Op.Simple s) {
                return exchange(1, query(sql(s.sql())));
            } else if (op instanceof Op.Unnamed u) {
                return exchange(1, parse("", sql(u.sql())), bind(""), describePortal(), execute(), sync());
            } else if (op instanceof Op.Prepare p) {
                return exchange(1, parse(p.name(), sql(p.sql())), describeStatement(p.name()), sync());
            } else if (op instanceof Op.Run r) {
                return exchange(1, bind(r.name()), describePortal(), execute(), sync());
            } else if (op instanceof Op.Close cl) {
                return exchange(1, closeStatement(cl.name()), sync());
            } else if (op instanceof Op.Pipeline p) {
                List<byte[]> messages = new ArrayList<>();
                for (String sql : p.statements()) {
                    messages.addAll(List.of(parse("", sql(sql)), bind(""), describePortal(), execute(), sync()));
                }
                return exchange(p.statements().size(), messages.toArray(byte[][]::new));
            } else if (op instanceof Op.Flushed f) {
                return flushed(sql(f.sql()));
            }
            throw new IllegalArgumentException("the harness itself reconnects: " + op);
        }

        @Override
        public List<String> probe(List<Param> params) throws IOException {
            List<String> out = new ArrayList<>(run(new Op.Simple(Arm.probeSql(params))));
            out.add("reported " + reported);
            return out;
        }

        private String sql(String sql) {
            return Op.on(sql, table);
        }

        private static byte[] describePortal() {
            return message('D', concat(new byte[] {'P'}, cstring("")));
        }

        private List<String> exchange(int readies, byte[]... messages) throws IOException {
            List<Msg> all = new ArrayList<>();
            try {
                c.send(messages);
                for (int i = 0; i < readies; i++) {
                    all.addAll(c.readUntilReady());
                }
            } catch (SocketTimeoutException e) {
                all.add(new Msg('?', new byte[0]));
            }
            return observed(all);
        }

        /** Parse, Bind, Describe, Execute and Flush; the results must arrive before the Sync is sent. */
        private List<String> flushed(String sql) throws IOException {
            List<Msg> all = new ArrayList<>();
            try {
                c.send(parse("", sql), bind(""), describePortal(), execute(), message('H', new byte[0]));
                while (true) {
                    Msg m = c.read();
                    all.add(m);
                    // Execute ends in CommandComplete, EmptyQueryResponse or PortalSuspended; an error ends the batch
                    if (m.type() == 'C' || m.type() == 'I' || m.type() == 's' || m.type() == 'E' || m.type() == -1) {
                        break;
                    }
                }
                all.add(new Msg('|', new byte[0])); // where the Sync went
                if (all.get(all.size() - 2).type() != -1) {
                    c.send(sync());
                    all.addAll(c.readUntilReady());
                }
            } catch (SocketTimeoutException e) {
                all.add(new Msg('?', new byte[0]));
            }
            return observed(all);
        }

        private List<String> observed(List<Msg> all) {
            for (Msg m : all) {
                if (m.type() == 'Z') {
                    status = (char) m.body()[0];
                }
            }
            if (!all.isEmpty() && (all.get(all.size() - 1).type() == -1 || all.get(all.size() - 1).type() == '?')) {
                c.drop();
                c = null;
            }
            return WireObservations.describe(all, reported);
        }

        @Override
        public void close() {
            if (c != null) {
                c.close();
                c = null;
            }
        }
    }
}
