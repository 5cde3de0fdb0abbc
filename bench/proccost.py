#!/usr/bin/env python3
"""A pooler's own cost per transaction: CPU time and context switches from /proc (for bench/run.sh).

    bench/proccost.py sample PID OUT_FILE [INTERVAL_S]      # until killed: one line per interval
    bench/proccost.py per-tx SAMPLES_FILE SAMPLING_RATE LOG_FILE...

`sample` appends "<epoch seconds> <utime+stime ticks> <voluntary+nonvoluntary switches>" every INTERVAL_S
(0.25) seconds. CPU time is the process's (all threads, live and exited: /proc/PID/stat fields 14-15); the
context switches are summed over /proc/PID/task/*/status, since /proc/PID/status counts the main thread only
(a JVM's main thread sleeps the whole run).

`per-tx` reads pgbench's per-transaction logs (`-l`, fields: client tx_no latency_us script epoch_s epoch_us ...;
only a SAMPLING_RATE share of the transactions is logged) and prints "<cpu µs per tx> <switches per tx> <seconds>":
the pooler's CPU and switches between the first and last sample inside the window in which transactions completed
(its first and last 0.5 s left out, so pgbench's connection phase and its teardown are not charged), divided by the
transactions that completed between those two samples. For `pgbench -C` every transaction includes its
connection, so there the cost of a login is part of the figure, as it should be. Prints "- - 0" when the window
is too short to say anything.
"""
import glob
import os
import sys
import time

TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def read_cost(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 is fields[0]
    ticks = int(fields[11]) + int(fields[12])      # utime, stime (fields 14, 15)
    switches = 0
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except OSError:
            pass  # a thread that ended between glob and open
    return ticks, switches


def sample(pid, out, interval):
    with open(out, "a", buffering=1) as f:
        while True:
            try:
                ticks, switches = read_cost(pid)
            except OSError:
                return
            f.write(f"{time.time():.3f} {ticks} {switches}\n")
            time.sleep(interval)


def per_tx(samples_file, rate, logs):
    ends = []
    for log in logs:
        with open(log) as f:
            for line in f:
                p = line.split()
                if len(p) >= 6 and p[2].isdigit():  # "failed"/"skipped" rows have no latency
                    ends.append(int(p[4]) + int(p[5]) / 1e6)
    samples = []
    with open(samples_file) as f:
        for line in f:
            p = line.split()
            if len(p) == 3:
                samples.append((float(p[0]), int(p[1]), int(p[2])))
    if len(ends) < 2 or len(samples) < 2:
        print("- - 0")
        return
    ends.sort()
    lo, hi = ends[0] + 0.5, ends[-1] - 0.5
    inside = [s for s in samples if lo <= s[0] <= hi]
    if len(inside) < 2:
        print("- - 0")
        return
    (t0, c0, s0), (t1, c1, s1) = inside[0], inside[-1]
    tx = sum(1 for e in ends if t0 < e <= t1) / rate
    if tx <= 0:
        print("- - 0")
        return
    print(f"{(c1 - c0) * TICK_US / tx:.1f} {(s1 - s0) / tx:.3f} {t1 - t0:.1f}")


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "sample":
        sample(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 0.25)
    elif len(sys.argv) >= 5 and sys.argv[1] == "per-tx":
        per_tx(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
