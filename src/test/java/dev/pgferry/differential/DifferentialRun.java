package dev.pgferry.differential;

import java.util.List;
import java.util.Map;

/**
 * Plays a scenario on two arms, op by op, and stops at the first divergence. After every op the acting client's
 * observations of the op and of its session (a probe) are compared; every {@link #ALL_CLIENTS_EVERY} blocks and at
 * the end, every client's probe too (the acting client's own probe already sees what an earlier client left on the
 * backend it leased; the others' show what a client that stays idle for long believes).
 */
final class DifferentialRun {
    private DifferentialRun() {}

    static final int ALL_CLIENTS_EVERY = 8;

    /** How many ops ran, and the divergence that stopped the run, if any. */
    record Outcome(int steps, Divergence divergence) {}

    static Outcome run(List<Block> blocks, Arm proxy, Arm direct, int clients, List<Param> params) throws Exception {
        Tables.reset(proxy.table());
        Tables.reset(direct.table());
        Arm.Client[] p = new Arm.Client[clients];
        Arm.Client[] d = new Arm.Client[clients];
        int step = 0;
        try {
            for (int k = 0; k < clients; k++) {
                p[k] = proxy.open(Map.of());
                d[k] = direct.open(Map.of());
                Divergence x = Divergence.of(0, -1, k, "login", p[k].login(), d[k].login());
                if (x != null) {
                    return new Outcome(0, x);
                }
            }
            for (int bi = 0; bi < blocks.size(); bi++) {
                Block b = blocks.get(bi);
                int k = b.client();
                for (Op op : b.ops()) {
                    step++;
                    List<String> po;
                    List<String> dob;
                    if (op instanceof Op.Reconnect r) {
                        p[k].close();
                        d[k].close();
                        p[k] = proxy.open(r.startup());
                        d[k] = direct.open(r.startup());
                        po = p[k].login();
                        dob = d[k].login();
                    } else {
                        po = p[k].run(op);
                        dob = d[k].run(op);
                    }
                    Divergence x = Divergence.of(step, bi, k, op.toString(), po, dob);
                    if (x == null) {
                        x = Divergence.of(step, bi, k, "probe after " + op, p[k].probe(params), d[k].probe(params));
                    }
                    if (x != null) {
                        return new Outcome(step, x);
                    }
                }
                if (d[k].transactionStatus() != 'I' || p[k].transactionStatus() != 'I') {
                    Op end = new Op.Simple(b.ending());
                    Divergence x = Divergence.of(step, bi, k, "end of block: " + end, p[k].run(end), d[k].run(end));
                    if (x != null) {
                        return new Outcome(step, x);
                    }
                }
                for (int j = 0; (bi % ALL_CLIENTS_EVERY == 0 || bi == blocks.size() - 1) && j < clients; j++) {
                    Divergence x = Divergence.of(step, bi, j, "probe after block", p[j].probe(params), d[j].probe(params));
                    if (x != null) {
                        return new Outcome(step, x);
                    }
                }
            }
            return new Outcome(step, null);
        } finally {
            for (int k = 0; k < clients; k++) {
                closeQuietly(p[k]);
                closeQuietly(d[k]);
            }
        }
    }

    private static void closeQuietly(Arm.Client c) {
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException ignored) {
                // a broken connection: closing anyway
            }
        }
    }
}
