package dev.pgferry.microbench;

import dev.pgferry.session.StatementInspector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * A JMH-free timing of the inspection of a Parse seen before (pgbench {@code -M extended}'s statement): the owned
 * path ({@link StatementInspector#inspect(ByteBuf, int, int)}, a Query's) and the shared one (a Parse's). Run it on
 * this build and on one before the inspection cache to compare:
 * {@code java -cp target/test-classes:target/classes:<deps> dev.pgferry.microbench.ParseInspectionTiming [mode]},
 * mode {@code inspect} (default), {@code shared}, or {@code unique} (shared, but each Parse a text not cached).
 * Prints the best of several rounds in ns per inspection.
 */
public final class ParseInspectionTiming {
    private static volatile Object sink;

    public static void main(String[] args) throws InterruptedException {
        // on a Netty thread, as on an event loop: the per-thread state is a FastThreadLocal
        Thread t = new FastThreadLocalThread(() -> run(args));
        t.start();
        t.join();
    }

    private static void run(String[] args) {
        String mode = args.length > 0 ? args[0] : "inspect";
        String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1;" + (mode.equals("unique") ? " --    " : "");
        byte[] text = (sql + "\0\0\0").getBytes(StandardCharsets.US_ASCII);
        ByteBuf parse = PooledByteBufAllocator.DEFAULT.directBuffer(128);
        parse.writeByte('P').writeInt(4 + 1 + text.length).writeByte(0).writeBytes(text);
        int from = 6;
        int end = parse.writerIndex();
        // "unique": 4096 texts in turn, more than the cache holds, so every Parse misses
        int[] k4 = {0};
        IntSupplier op = switch (mode) {
            case "shared" -> () -> StatementInspector.inspectShared(parse, from, end) == null ? 0 : 1;
            case "unique" -> () -> {
                parse.setInt(end - 7, 0x41414141 + (k4[0]++ & 4095)); // the comment's last 4 bytes vary
                return StatementInspector.inspectShared(parse, from, end) == null ? 0 : 1;
            };
            default -> () -> StatementInspector.inspect(parse, from, end) == null ? 0 : 1;
        };
        int n = 2_000_000;
        double best = Double.MAX_VALUE;
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = 0;
        for (int round = 0; round < 12; round++) {
            long a0 = threads.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            int found = 0;
            for (int k = 0; k < n; k++) {
                found += op.getAsInt();
            }
            long t1 = System.nanoTime();
            allocated = threads.getCurrentThreadAllocatedBytes() - a0;
            sink = found;
            double ns = (t1 - t0) / (double) n;
            best = Math.min(best, ns);
            System.out.printf("round %2d: %.1f ns/op%n", round, ns);
        }
        System.out.printf("%s best: %.1f ns/op, last round allocated %.2f bytes/op%n",
                mode, best, allocated / (double) n);
        parse.release();
    }
}
