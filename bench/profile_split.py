#!/usr/bin/env python3
"""Split an event-loop CPU profile of pgferry by protocol message type (for docs/bench/profile-extended.md).

    bench/profile_split.py jfr RECORDING.jfr [SOURCE_ROOT]     # JFR jdk.ExecutionSample, with line numbers
    bench/profile_split.py collapsed PROFILE.collapsed          # async-profiler 'collapsed' output (Java + kernel)

jfr: every sample of a pgferry event-loop thread is charged to the message whose branch it was in: the line of
the innermost ClientSession.relayClient frame (client -> server: Parse, Bind, Describe, Execute, Sync, ...) or
ClientSession.onBackendRead frame (server -> client: ParseComplete, BindComplete, DataRow, CommandComplete,
ReadyForQuery, ...), found by reading the `case ProtocolCodes.X` lines of those methods in SOURCE_ROOT (default:
the repository). Lines before the first case are the framing of the message; lines after the switch the write of
the relayed run. Per message it prints the share of the event loop's samples and the heaviest callees (inclusive)
and leaf methods (self). JFR samples only Java code: time in system calls is in the collapsed report.

collapsed: async-profiler samples of the event-loop threads (kernel frames included) split into the relay of
client messages, the relay of server messages, writes and flushes (the system calls under them), reads,
epoll_wait and the rest, with the heaviest leaf frames of each.
"""
import collections
import os
import re
import subprocess
import sys

LOOP = re.compile(r"eventloop")


def case_ranges(source, method):
    """[(first_line, last_line, label)] for the switch branches of METHOD in SOURCE (1-based lines)."""
    with open(source) as f:
        lines = f.readlines()
    start = next(i for i, l in enumerate(lines) if re.search(r"\b(void|boolean)\s+" + method + r"\(", l))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("    }"))
    marks = []
    for i in range(start, end + 1):
        m = re.search(r"^\s*case\s+([^-]+?)\s*->", lines[i])
        if m:
            first = m.group(1).split(",")[0].strip()
            marks.append((i + 1, first.replace("ProtocolCodes.", "")))
        elif re.search(r"^\s*default\s*->", lines[i]):
            marks.append((i + 1, "default (relayed as is)"))
            break
    out = [(start + 1, marks[0][0] - 1, "framing, dispatch")]
    for k, (ln, label) in enumerate(marks):
        nxt = marks[k + 1][0] - 1 if k + 1 < len(marks) else ln
        out.append((ln, nxt, label))
    out.append((marks[-1][0] + 1, end + 1, f"after the switch (lines {marks[-1][0] + 1}-{end + 1})"))
    return out


def label_of(ranges, line):
    for a, b, label in ranges:
        if a <= line <= b:
            return label
    return "?"


def jfr_samples(path):
    """yields (thread, [frames leaf first as (method, line)])"""
    out = subprocess.run(["jfr", "print", "--stack-depth", "256", "--events", "jdk.ExecutionSample", path],
                         capture_output=True, text=True, check=True).stdout
    thread, frames, in_stack = None, [], False
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("sampledThread"):
            thread = s.split('"')[1] if '"' in s else s
        elif s.startswith("stackTrace = ["):
            frames, in_stack = [], True
        elif in_stack and s == "]":
            in_stack = False
            yield thread, frames
        elif in_stack and s and s != "...":
            m = re.match(r"(.*?)\(.*\)\s+line:\s*(\d+)", s)
            if m:
                frames.append((m.group(1), int(m.group(2))))
            else:
                frames.append((s, 0))


def work_kind(frames):
    names = " ".join(f[0] for f in frames)
    if re.search(r"__send|sendto|sendmsg|writev", names):
        return "send / writev system call (the flush), kernel loopback TCP included"
    if re.search(r"\brecv|recvfrom|readv|__GI___read|tcp_recvmsg", names):
        return "recv system call (socket read)"
    if re.search(r"epoll_wait|epoll_pwait|epollWait", names):
        return "epoll_wait"
    leaf = frames[0][0]
    if leaf.startswith("dev.pgferry."):
        return "pgferry Java code (self)"
    if leaf.startswith(("io.netty.", "io.vertx.")):
        return "Netty Java code (self)"
    if leaf.startswith(("java.", "jdk.", "sun.")):
        return "JDK Java code (self)"
    return "JVM / other native (GC, JIT stubs, kernel outside the socket calls)"


def short(method):
    parts = method.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else method


def jfr_report(path, src_root):
    source = os.path.join(src_root, "src/main/java/dev/pgferry/session/ClientSession.java")
    ranges = {"relayClient": case_ranges(source, "relayClient"), "onBackendRead": case_ranges(source, "onBackendRead")}
    side = {"relayClient": "client → server", "onBackendRead": "server → client"}
    total = 0
    kinds = collections.Counter()
    own = collections.Counter()
    by = collections.Counter()
    callees = collections.defaultdict(collections.Counter)
    leaves = collections.defaultdict(collections.Counter)
    for thread, frames in jfr_samples(path):
        if not thread or not LOOP.search(thread) or not frames:
            continue
        total += 1
        kinds[work_kind(frames)] += 1
        if frames[0][0].startswith("dev.pgferry."):
            own[short(frames[0][0])] += 1
        key = None
        for depth in range(len(frames)):  # innermost first: a relay nested in another (a lease handed on) is its own
            m, ln = frames[depth]
            name = m.rsplit(".", 1)[-1]
            if m.endswith("session.ClientSession." + name) and name in ranges:
                key = (side[name], label_of(ranges[name], ln))
                callee = short(frames[depth - 1][0]) if depth > 0 else "(self)"
                break
        if key is None:
            names = [f[0] for f in frames]
            if any("ClientSession.flush" in n or "DeferredFlush" in n for n in names):
                key = ("other", "deferred flush (outside the relay loops)")
            elif any("pgferry" in n for n in names):
                inner = next(n for n in reversed(names) if "pgferry" in n)
                key = ("other", "pgferry, other: " + short(inner))
            else:
                key = ("other", "Netty / JDK outside pgferry: " + short(frames[-1][0]))
            callee = short(frames[0][0])
        by[key] += 1
        callees[key][callee] += 1
        leaves[key][short(frames[0][0])] += 1
    print(f"event-loop samples: {total}")
    print()
    print("What kind of work (leaf and system call of each sample):")
    print()
    print("| work | share of event-loop CPU |")
    print("|---|---:|")
    for k, n in kinds.most_common():
        print(f"| {k} | {100 * n / total:.1f}% |")
    print()
    print("pgferry's own methods, self time (top 12):")
    print()
    print("| method | share of event-loop CPU |")
    print("|---|---:|")
    for k, n in own.most_common(12):
        print(f"| {k} | {100 * n / total:.2f}% |")
    print()
    print("By message (innermost relay frame; inclusive of what the branch calls, system calls too):")
    print()
    print("| direction | message / part | share of event-loop CPU | heaviest callees (inclusive) | heaviest leaf methods |")
    print("|---|---|---:|---|---|")
    others = 0
    for key, n in by.most_common():
        if key[0] == "other" and n / total < 0.01:
            others += n
            continue
        top_c = ", ".join(f"{c} {100 * k / total:.1f}%" for c, k in callees[key].most_common(4))
        top_l = ", ".join(f"{c} {100 * k / total:.1f}%" for c, k in leaves[key].most_common(4))
        print(f"| {key[0]} | {key[1]} | {100 * n / total:.2f}% | {top_c} | {top_l} |")
    if others:
        print(f"| other | each under 1% | {100 * others / total:.1f}% | | |")


def collapsed_report(path):
    buckets = collections.Counter()
    leaves = collections.defaultdict(collections.Counter)
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            frames = stack.split(";")
            if not LOOP.search(frames[0]):
                continue
            n = int(n)
            total += n
            names = frames[1:]
            joined = ";".join(names)
            if "ClientSession.relayClient" in joined and not re.search(r"\.flush|doWrite", joined):
                b = "client → server relay (relayClient, no write)"
            elif "ClientSession.onBackendRead" in joined and not re.search(r"\.flush|doWrite", joined):
                b = "server → client relay (onBackendRead, no write)"
            elif re.search(r"\.flush|doWrite|writev|sendto|__send", joined):
                b = "write + flush (syscalls included)"
            elif re.search(r"doReadBytes|readAddress|__GI___read|recvfrom|sys_read", joined):
                b = "socket read (syscalls included)"
            elif re.search(r"epollWait|epoll_wait|epollBusyWait", joined):
                b = "epoll_wait"
            elif "pgferry" in joined:
                b = "pgferry, other"
            else:
                b = "Netty / JDK / kernel, other"
            buckets[b] += n
            leaves[b][names[-1] if names else "?"] += n
    print(f"event-loop samples: {total}")
    print()
    print("| part | share of event-loop CPU | heaviest leaf frames |")
    print("|---|---:|---|")
    for b, n in buckets.most_common():
        top = ", ".join(f"`{short(c)}` {100 * k / total:.1f}%" for c, k in leaves[b].most_common(4))
        print(f"| {b} | {100 * n / total:.1f}% | {top} |")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if len(sys.argv) >= 3 and sys.argv[1] == "jfr":
        jfr_report(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else os.path.dirname(here))
    elif len(sys.argv) == 3 and sys.argv[1] == "collapsed":
        collapsed_report(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
