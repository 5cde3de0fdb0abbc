# One arm of the differential test (dev.pgferry.differential.ScriptArm) on psycopg 3 with its defaults: reads one
# JSON command a line on stdin, answers each with one JSON array of observations on stdout.
import json
import sys

import psycopg

host, port, user, password, dbname, table = sys.argv[1:7]
REPORTED = ["application_name", "DateStyle", "IntervalStyle", "TimeZone", "default_transaction_read_only",
            "search_path", "standard_conforming_strings", "client_encoding", "is_superuser", "session_authorization"]
STATUS = {psycopg.pq.TransactionStatus.IDLE: "I", psycopg.pq.TransactionStatus.INTRANS: "T",
          psycopg.pq.TransactionStatus.INERROR: "E"}
conns = {}
named = {}


def sql(s):
    return s.replace("{t}", table)


def error(e):
    return "error %s" % (getattr(e, "sqlstate", None) or type(e).__name__)


def results(cur, out):
    while True:
        if cur.description is not None:
            out.append("columns " + json.dumps([[d.name, d.type_code] for d in cur.description]))
            for row in cur.fetchall():
                out.append("row " + json.dumps([None if v is None else str(v) for v in row]))
        else:
            out.append("count %s %s" % (cur.rowcount, cur.statusmessage))
        if not cur.nextset():
            break


def reported(c):
    # ConnectionInfo.parameter_status gives str (psycopg 3.1, Debian 12) or bytes (its PGconn): both read alike
    values = {}
    for n in REPORTED:
        v = c.info.parameter_status(n)
        values[n] = v.decode() if isinstance(v, bytes) else v
    return json.dumps(values, sort_keys=True)


def open_client(cid, startup):
    kw = {}
    options = []
    for k, v in startup.items():
        if k == "application_name":
            kw[k] = v
        elif k == "options":
            options.append(v)
        else:
            options.append("-c %s=%s" % (k, v.replace(" ", "\\ ")))
    if options:
        kw["options"] = " ".join(options)
    try:
        c = psycopg.connect(host=host, port=port, user=user, password=password, dbname=dbname, autocommit=True, **kw)
    except psycopg.Error as e:
        conns[cid] = None
        return ["login failed " + error(e)]
    conns[cid] = c
    named[cid] = {}
    return ["reported " + reported(c)]


def run(cid, op):
    c = conns.get(cid)
    if c is None:
        return ["not connected"]
    out = []
    kind = op["kind"]
    try:
        if kind == "simple":
            results(c.execute(sql(op["sql"])), out)
        elif kind in ("unnamed", "flushed"):
            # parameters (none) make psycopg use the extended protocol
            results(c.execute(sql(op["sql"]), []), out)
        elif kind == "prepare":
            named[cid][op["name"]] = sql(op["sql"])
            out.append("prepared")
        elif kind == "run":
            text = named[cid].get(op["name"])
            if text is None:
                out.append("no statement " + op["name"])
            else:
                # the default prepare_threshold (5): prepared on the server from the fifth run
                results(c.execute(text, []), out)
        elif kind == "close":
            named[cid].pop(op["name"], None)
            out.append("closed")
        elif kind == "pipeline":
            try:
                with c.pipeline() as p:
                    curs = [c.execute(sql(s), []) for s in op["statements"]]
                    p.sync()
                for cur in curs:
                    results(cur, out)
            except psycopg.Error as e:
                out.append(error(e))
    except psycopg.Error as e:
        out.append(error(e))
    out.append("status " + STATUS.get(c.info.transaction_status, "?"))
    return out


for line in sys.stdin:
    cmd = json.loads(line)
    cid = cmd.get("id")
    if cmd["cmd"] == "open":
        answer = open_client(cid, cmd["startup"])
    elif cmd["cmd"] == "run":
        answer = run(cid, cmd["op"])
    elif cmd["cmd"] == "probe":
        answer = run(cid, {"kind": "simple", "sql": cmd["sql"]})
        c = conns.get(cid)
        if c is not None:
            answer.append("reported " + reported(c))
    elif cmd["cmd"] == "status":
        c = conns.get(cid)
        answer = [STATUS.get(c.info.transaction_status, "?") if c is not None else "I"]
    elif cmd["cmd"] == "close":
        c = conns.pop(cid, None)
        if c is not None:
            c.close()
        answer = []
    else:
        answer = ["unknown command"]
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
