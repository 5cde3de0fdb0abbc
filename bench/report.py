#!/usr/bin/env python3
"""Turn docs/bench/results.csv + meta.txt into results.md and tps_vs_clients.png.

Usage: bench/report.py [OUT_DIR]   (default docs/bench next to this script's repo)
Python 3 standard library only; the chart uses gnuplot (Debian gnuplot-nox) or, failing that,
matplotlib (Debian python3-matplotlib). Run by bench/run.sh; can be re-run on its own.
"""
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

TARGET_ORDER = ["pgferry", "pgbouncer", "pgferry-unix", "pgbouncer-unix", "direct"]
TARGET_NAME = {"pgferry": "pgferry", "pgbouncer": "PgBouncer", "pgferry-unix": "pgferry ⇢unix",
               "pgbouncer-unix": "PgBouncer ⇢unix", "direct": "direct PostgreSQL"}
# × PgBouncer compares with the PgBouncer that reaches PostgreSQL the same way (loopback TCP or its Unix socket)
PEER = {"pgferry": "pgbouncer", "pgbouncer": "pgbouncer", "pgferry-unix": "pgbouncer-unix",
        "pgbouncer-unix": "pgbouncer-unix", "direct": "pgbouncer"}
MODE_ORDER = ["simple", "extended", "prepared"]
SCRIPT_NAME = {"S": "select-only (-S)", "B": "tpcb-like", "C": "connection storm (-C -S)"}
SCRIPT_ORDER = ["S", "B", "C"]


def parse_scenario(s):
    script, mode, clients = s.split("-")
    return script, mode, int(clients)


def read_meta(path):
    meta = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    meta[k] = v
    return meta


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def aggregate(rows):
    """(target, scenario) -> summary dict over rounds."""
    cells = {}
    for r in rows:
        cells.setdefault((r["target"], r["scenario"]), []).append(r)
    out = {}
    for key, rs in cells.items():
        ok = [r for r in rs if r["status"] == "ok"]
        med = lambda col: statistics.median([v for v in (fnum(r.get(col)) for r in ok) if v is not None]) \
            if any(fnum(r.get(col)) is not None for r in ok) else None
        statuses = {}
        for r in rs:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        errors = [r["error"] for r in rs if r["status"] not in ("ok", "skipped") and r["error"]]
        out[key] = {
            "rounds": len(rs),
            "ok": len(ok),
            "skipped": all(r["status"] == "skipped" for r in rs),
            "tps": med("tps"),
            "p50": med("p50_ms"),
            "p99": med("p99_ms"),
            "conn": med("conn_ms"),
            # the pooler's own CPU µs and context switches per transaction (bench/proccost.py); older CSVs lack them
            "cpu": med("cpu_us_per_tx"),
            "cs": med("cs_per_tx"),
            "failed": sum(int(r["failed"]) for r in rs if r["failed"].isdigit()),
            "aborted": sum(int(r["aborted_clients"]) for r in rs if r["aborted_clients"].isdigit()),
            "errlines": sum(int(r.get("error_lines") or 0) for r in rs if (r.get("error_lines") or "0").isdigit()),
            # rounds that completed normally although pgbench printed errors (e.g. a Parse rejected
            # but the statement existed anyway): shown as an approximate value, never in the median
            "tps_unclean": statistics.median([fnum(r["tps"]) for r in rs if r["status"] == "errors" and fnum(r["tps"])])
            if any(r["status"] == "errors" and fnum(r["tps"]) for r in rs) else None,
            "statuses": statuses,
            "error": errors[0] if errors else "",
            "skip_reason": rs[0]["error"] if rs and rs[0]["status"] == "skipped" else "",
        }
    return out


def fmt(v, nd=0):
    if v is None:
        return "—"
    return f"{v:,.{nd}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}"


def jar_name(meta):
    jar = meta.get("pgferry_jar")
    if not jar:
        return "n/a"
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.relpath(jar, repo) if os.path.isabs(jar) else jar


def write_md(out_dir, meta, agg, rows):
    scenarios = sorted({r["scenario"] for r in rows},
                       key=lambda s: (SCRIPT_ORDER.index(parse_scenario(s)[0]), parse_scenario(s)[2],
                                      MODE_ORDER.index(parse_scenario(s)[1])))
    targets = [t for t in TARGET_ORDER if any(r["target"] == t for r in rows)]
    limits = {}
    for (t, s), a in agg.items():
        script, mode, clients = parse_scenario(s)
        if t == "direct" and clients == 20:
            limits[(script, mode)] = a["tps"]
    lines = []
    w = lines.append
    w("# pgferry benchmark: pgferry vs PgBouncer vs direct PostgreSQL")
    w("")
    if meta.get("note"):
        w(f"> **{meta['note']}**")
        w("")
    w(f"- **Machine**: {meta.get('cpus', '?')} CPU cores ({meta.get('cpu_model', '?')}), {meta.get('mem', '?')} RAM, "
      f"{meta.get('os', '?')}. The cores are **shared** by PostgreSQL, the pooler and pgbench (all on one host, "
      "loopback TCP): absolute numbers are low and a pooler's CPU use is taken from PostgreSQL and pgbench. "
      "Compare ratios, not absolute tps.")
    w(f"- **Measured**: pgferry commit `{meta.get('pgferry_commit', 'n/a')}` (jar `{jar_name(meta)}`), "
      f"bench scripts commit `{meta.get('bench_commit', '?')}`; {meta.get('pgbouncer', 'PgBouncer ?')}; "
      f"PostgreSQL {meta.get('postgresql', '?')}; {meta.get('pgbench', '')}; {meta.get('java', '')}.")
    w(f"- **Date**: {meta.get('start', '?')} → {meta.get('end', '?')} (UTC). Load average (1/5/15 min) at start "
      f"{meta.get('load_before', '?')}, at end {meta.get('load_after', '?')}: a 1-minute load well above what "
      "pgbench itself causes means other work shared the cores during the run.")
    w(f"- **Method**: {meta.get('rounds', '?')} interleaved rounds (every round runs each scenario on each target in turn) "
      f"of {meta.get('seconds', '?')} s per cell; pool size {meta.get('pool', '?')} per (database, user), transaction mode, "
      f"for both poolers; `pgbench -j 2`, user postgres (SCRAM-SHA-256), scale 10. "
      f"tps = median over rounds; p50/p99 = median over rounds of each round's percentile of the per-transaction "
      f"latency log (`pgbench -l --sampling-rate={meta.get('sampling', '?')}`; storm cells log every transaction). "
      "Only rounds that finished cleanly (no failed transaction, no aborted client, exit 0) enter the medians.")
    for t in TARGET_ORDER:
        if meta.get(f"skipped_{t}"):
            w(f"- **{TARGET_NAME[t]} not measured**: {meta[f'skipped_{t}']}")
    w("")
    w("Targets: **pgferry** and **PgBouncer** reach PostgreSQL over loopback TCP (PgBouncer as configured by "
      "`pgbouncer.sh`, the reference); **pgferry ⇢unix** and **PgBouncer ⇢unix** over PostgreSQL's Unix-domain "
      "socket (`pgferry.backend.host` = the socket directory; PgBouncer `host=` the same). Clients (pgbench) "
      "always connect over loopback TCP.")
    w("")
    w("Columns: **× PgBouncer** = tps / the tps of the PgBouncer that reaches PostgreSQL the same way, in the "
      "same cell; **× limit** = tps / direct PostgreSQL "
      "at 20 clients with the same script and protocol mode (what the database gives when exactly the pool's "
      "20 connections are busy — the ceiling a pool of 20 can approach). **ok** = clean rounds / rounds. "
      "**failed / aborted / errors** = failed transactions / aborted clients / error messages printed by pgbench, "
      "summed over all rounds; any non-zero value is flagged ⚠ and explained below the table. "
      "≈tps ⚠ = no clean round, but pgbench completed normally while printing errors: the value is shown for "
      "orientation and is not comparable. n/a = not run (direct PostgreSQL has max_connections=500).")
    w("")
    w("**CPU µs/tx** and **cs/tx**: the pooler process's own CPU time (user + system, all threads) and context "
      "switches (voluntary + involuntary, all threads) per transaction, from `/proc` sampled through the cell "
      "(`bench/proccost.py`: the window in which transactions completed, its first and last 0.5 s left out, so "
      "the initial connections are not charged except in `-C` cells, where each transaction is a login).")
    w("")
    w("| scenario | mode | clients | target | tps | p50 ms | p99 ms | CPU µs/tx | cs/tx | × PgBouncer | × limit | ok | failed / aborted / errors |")
    w("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    notes = []
    fallback_used = False
    for s in scenarios:
        script, mode, clients = parse_scenario(s)
        for t in targets:
            a = agg.get((t, s))
            if a is None:
                continue
            label = f"{SCRIPT_NAME[script]}" + (" — **limit reference**" if t == "direct" and clients == 20 else "")
            if a["skipped"]:
                w(f"| {label} | {mode} | {clients} | {TARGET_NAME[t]} | n/a | n/a | n/a | — | — | — | — | — | {a['skip_reason']} |")
                continue
            peer = PEER[t]
            pgb = agg.get((peer, s), {}).get("tps")
            vs_pgb = ratio(a['tps'], pgb) if t != peer else '1.00' if a['tps'] else '—'
            if t.startswith("pgferry") and pgb is None and a["tps"] is not None:
                # PgBouncer could not run this mode (1.18 has no prepared statements in transaction mode): compare
                # with the best mode it could run at the same script and clients, which is what its users get
                best = max(((agg.get((peer, f"{script}-{m}-{clients}"), {}).get("tps") or 0, m)
                            for m in MODE_ORDER if m != mode), default=(0, None))
                if best[0]:
                    vs_pgb = f"{ratio(a['tps'], best[0])}‡ (vs its {best[1]})"
                    fallback_used = True
            lim = limits.get((script, mode))
            bad = a["failed"] or a["aborted"] or a["errlines"] or a["ok"] < a["rounds"]
            fa = f"{a['failed']} / {a['aborted']} / {a['errlines']}"
            if bad:
                notes.append((t, s, a))
                other = ", ".join(f"{k}×{v}" for k, v in sorted(a["statuses"].items()) if k != "ok")
                fa = f"⚠ {fa} ({other}) [{len(notes)}]"
            tps = fmt(a["tps"]) if a["tps"] is not None else \
                f"≈{fmt(a['tps_unclean'])} ⚠" if a["tps_unclean"] is not None else "**failed**"
            w(f"| {label} | {mode} | {clients} | {TARGET_NAME[t]} | {tps} | {fmt(a['p50'], 2)} | {fmt(a['p99'], 2)} | "
              f"{fmt(a['cpu'], 1)} | {fmt(a['cs'], 2)} | {vs_pgb} | "
              f"{ratio(a['tps'], lim)} | {a['ok']}/{a['rounds']} | {fa} |")
    w("")
    if fallback_used:
        w("‡ PgBouncer failed this cell (its mode is unsupported in transaction mode); the ratio is to the best "
          "mode PgBouncer ran cleanly at the same script and client count, i.e. what a PgBouncer user gets instead.")
        w("")
    if notes:
        w("### Failures")
        w("")
        for i, (t, s, a) in enumerate(notes, 1):
            w(f"{i}. {TARGET_NAME[t]}, {s}: {a['failed']} failed transactions, {a['aborted']} aborted clients, "
              f"{a['errlines']} error messages, "
              f"rounds by status {a['statuses']}; first error: `{a['error'] or 'none printed'}`")
        w("")
    storm = [(t, s, a) for (t, s), a in agg.items() if s.startswith("C-") and a["conn"] is not None]
    if storm:
        w("Connection storm cells: tps is the onboarding rate (connections opened, authenticated with SCRAM-SHA-256, "
          "used for one select and closed per second, pgbench's two threads connecting one at a time); "
          "pgbench's average connection time: " +
          "; ".join(f"{TARGET_NAME[t]} {s} {a['conn']:.1f} ms" for t, s, a in sorted(storm)) + ".")
        w("")
    summary = ratio_summary(agg, scenarios)
    if summary:
        lines.extend(summary)
    lines.extend(ceiling_table(agg, scenarios, targets))
    w("![tps vs clients](tps_vs_clients.png)")
    w("")
    w("Raw data: [results.csv](results.csv) (one row per round × target × scenario); run metadata: [meta.txt](meta.txt). "
      "Produced by `bench/run.sh`; see `bench/README.md`.")
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def ratio_summary(agg, scenarios):
    """Markdown lines: pgferry ÷ PgBouncer per cell for each way of reaching PostgreSQL, or [] without pairs."""
    pairs = [("pgferry", "pgbouncer", "pgferry ÷ PgBouncer, both TCP to PG"),
             ("pgferry-unix", "pgbouncer-unix", "pgferry ÷ PgBouncer, both Unix socket to PG"),
             ("pgferry-unix", "pgbouncer", "pgferry ⇢unix ÷ PgBouncer reference (TCP)")]
    pairs = [p for p in pairs if any((p[0], s) in agg for s in scenarios) and any((p[1], s) in agg for s in scenarios)]
    if not pairs:
        return []
    out = ["### pgferry ÷ PgBouncer at a glance", "",
           "| scenario | mode | clients | " + " | ".join(p[2] for p in pairs) + " | CPU/tx, both TCP | p99, both TCP |",
           "|---|---|---:|" + "---:|" * len(pairs) + "---:|---:|"]
    for s in scenarios:
        script, mode, clients = parse_scenario(s)
        cells = []
        for f, b, _ in pairs:
            a, p = agg.get((f, s), {}).get("tps"), agg.get((b, s), {}).get("tps")
            cells.append(ratio(a, p) if a and p else "—")
        for col in ("cpu", "p99"):
            a, p = agg.get(("pgferry", s), {}).get(col), agg.get(("pgbouncer", s), {}).get(col)
            cells.append(ratio(a, p) if a and p else "—")
        if any(c != "—" for c in cells):
            out.append(f"| {SCRIPT_NAME[script]} | {mode} | {clients} | " + " | ".join(cells) + " |")
    out += ["", "— = one side has no clean median in that cell (e.g. PgBouncer 1.18 fails prepared in "
            "transaction mode; see the ‡ ratios above).", ""]
    return out


def ceiling_table(agg, scenarios, targets):
    """Markdown lines: transactions per second one pooler core could carry, 1e6 ÷ CPU µs per transaction."""
    poolers = [t for t in targets if t != "direct" and any(agg.get((t, s), {}).get("cpu") for s in scenarios)]
    if not poolers:
        return []
    out = ["### Per-core ceiling", "",
           "Transactions per second one core could carry if it did nothing but the pooler's work: 1e6 ÷ the pooler's "
           "CPU µs per transaction (median over clean rounds). A projection for a machine where the pooler has a core "
           "to itself; on this shared host PostgreSQL and pgbench take most of the CPU.", "",
           "| scenario | mode | clients | " + " | ".join(f"{TARGET_NAME[t]} CPU µs/tx | {TARGET_NAME[t]} tx/s per core"
                                                     for t in poolers) + " | pgferry ÷ PgBouncer CPU/tx |",
           "|---|---|---:|" + "---:|---:|" * len(poolers) + "---:|"]
    for s in scenarios:
        script, mode, clients = parse_scenario(s)
        cells = []
        for t in poolers:
            cpu = agg.get((t, s), {}).get("cpu")
            cells += [fmt(cpu, 1), fmt(1e6 / cpu) if cpu else "—"]
        f, b = agg.get(("pgferry", s), {}).get("cpu"), agg.get(("pgbouncer", s), {}).get("cpu")
        if any(c != "—" for c in cells):
            out.append(f"| {SCRIPT_NAME[script]} | {mode} | {clients} | " + " | ".join(cells) + f" | {ratio(f, b)} |")
    out.append("")
    return out


def chart_series(agg):
    """[(target, mode, [(clients, tps)])] for select-only cells with a clean median."""
    series = []
    for t in TARGET_ORDER:
        for m in MODE_ORDER:
            pts = sorted((parse_scenario(s)[2], a["tps"]) for (tt, s), a in agg.items()
                         if tt == t and s.startswith("S-") and parse_scenario(s)[1] == m and a["tps"] is not None)
            if pts:
                series.append((t, m, pts))
    return series


def chart(out_dir, meta, agg):
    png = os.path.join(out_dir, "tps_vs_clients.png")
    series = chart_series(agg)
    if not series:
        print("report: no clean select-only cells, no chart", file=sys.stderr)
        return
    title = f"pgbench -S tps vs clients (pool {meta.get('pool', '?')}, {meta.get('cpus', '?')} shared cores)"
    note = meta.get("note", "")[:150]
    colors = {"pgferry": "#d62728", "pgbouncer": "#1f77b4", "pgferry-unix": "#ff7f0e",
              "pgbouncer-unix": "#17becf", "direct": "#2ca02c"}
    dashes = {"simple": 1, "extended": 2, "prepared": 3}
    points = {"simple": 7, "extended": 5, "prepared": 9}
    if shutil.which("gnuplot"):
        with tempfile.TemporaryDirectory() as tmp:
            plots = []
            for i, (t, m, pts) in enumerate(series):
                dat = os.path.join(tmp, f"{i}.dat")
                with open(dat, "w") as f:
                    f.writelines(f"{c} {v}\n" for c, v in pts)
                plots.append(f"'{dat}' using 1:2 with linespoints lw 2 pt {points[m]} ps 1.3 dt {dashes[m]} "
                             f"lc rgb '{colors[t]}' title '{TARGET_NAME[t]} {m}'")
            xt = sorted({c for _, _, pts in series for c, _ in pts})
            script = "\n".join([
                "set terminal pngcairo size 1000,620 font 'sans,10'",
                f"set output '{png}'",
                f"set title \"{title}\"",
                "set logscale x", "set xlabel 'clients (log scale)'", "set ylabel 'transactions per second (median)'",
                "set xtics (" + ", ".join(f"'{c}' {c}" for c in xt) + ")",
                "set yrange [0:*]", "set grid", "set key outside right top",
                "set xrange [%g:%g]" % (min(xt) / 1.3, max(xt) * 1.3),
                ("set label 1 \"%s\" at screen 0.01,0.02 font ',8'" % note.replace('"', "'")) if note else "",
                "set bmargin 5" if note else "",
                "plot " + ", \\\n  ".join(plots),
            ])
            r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
            if r.returncode != 0:
                print("report: gnuplot failed:\n" + r.stderr, file=sys.stderr)
            return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: no chart: install gnuplot (apt-get install -y gnuplot-nox) or python3-matplotlib",
              file=sys.stderr)
        return
    ls = {"simple": "-", "extended": "--", "prepared": ":"}
    fig, ax = plt.subplots(figsize=(10, 6.2))
    for t, m, pts in series:
        ax.plot([c for c, _ in pts], [v for _, v in pts], ls[m], marker="o", color=colors[t],
                label=f"{TARGET_NAME[t]} {m}")
    ax.set_xscale("log")
    ax.set_xlabel("clients (log scale)")
    ax.set_ylabel("transactions per second (median)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    if note:
        fig.text(0.01, 0.01, note, fontsize=7)
    ax.grid(True)
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    fig.savefig(png, dpi=100)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(here), "docs", "bench")
    with open(os.path.join(out_dir, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("report: results.csv has no rows")
    meta = read_meta(os.path.join(out_dir, "meta.txt"))
    agg = aggregate(rows)
    write_md(out_dir, meta, agg, rows)
    chart(out_dir, meta, agg)
    print(f"report: wrote {out_dir}/results.md and tps_vs_clients.png", file=sys.stderr)


if __name__ == "__main__":
    main()
