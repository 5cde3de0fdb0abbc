// One arm of the differential test (dev.pgferry.differential.ScriptArm) on node-postgres with its defaults: reads one
// JSON command a line on stdin, answers each with one JSON array of observations on stdout, in order.
const { Client } = require('pg');
const readline = require('readline');

const [host, port, user, password, database, table] = process.argv.slice(2);
const conns = new Map();
const named = new Map();
const texts = new Map(); // statement text to a number, so that a name stands for one text (node-postgres insists)
const sql = (s) => s.replace(/\{t\}/g, table);
const error = (e) => 'error ' + (e.code || e.constructor.name);

function results(res, out) {
  for (const r of Array.isArray(res) ? res : [res]) {
    if (r.fields && r.fields.length > 0) {
      out.push('columns ' + JSON.stringify(r.fields.map((f) => [f.name, f.dataTypeID])));
      for (const row of r.rows) {
        out.push('row ' + JSON.stringify(r.fields.map((f) => (row[f.name] === null ? null : String(row[f.name])))));
      }
    } else {
      out.push('count ' + r.rowCount + ' ' + r.command);
    }
  }
}

async function open(id, startup) {
  const cfg = { host, port: Number(port), user, password, database };
  const options = [];
  for (const [k, v] of Object.entries(startup)) {
    if (k === 'application_name') cfg.application_name = v;
    else if (k === 'options') options.push(v);
    else options.push('-c ' + k + '=' + v.replace(/ /g, '\\ '));
  }
  if (options.length > 0) cfg.options = options.join(' ');
  const c = new Client(cfg);
  c.on('error', () => {});
  try {
    await c.connect();
  } catch (e) {
    conns.set(id, null);
    return ['login failed ' + error(e)];
  }
  conns.set(id, c);
  named.set(id, new Map());
  return ['connected'];
}

async function run(id, op) {
  const c = conns.get(id);
  if (!c) return ['not connected'];
  const out = [];
  try {
    switch (op.kind) {
      case 'simple':
        results(await c.query(sql(op.sql)), out);
        break;
      case 'unnamed':
      case 'flushed':
        results(await c.query({ text: sql(op.sql), queryMode: 'extended' }), out);
        break;
      case 'prepare':
        named.get(id).set(op.name, sql(op.sql));
        out.push('prepared');
        break;
      case 'run': {
        const text = named.get(id).get(op.name);
        if (text === undefined) out.push('no statement ' + op.name);
        // a named query: parsed on the first run on this connection, then bound by name
        else {
          if (!texts.has(text)) texts.set(text, texts.size);
          results(await c.query({ name: op.name + '_' + texts.get(text), text }), out);
        }
        break;
      }
      case 'close':
        named.get(id).delete(op.name);
        out.push('closed');
        break;
      case 'pipeline': {
        const all = op.statements.map((s) => c.query({ text: sql(s), queryMode: 'extended' }).then(
          (r) => ({ r }), (e) => ({ e })));
        for (const x of await Promise.all(all)) {
          if (x.e) out.push(error(x.e));
          else results(x.r, out);
        }
        break;
      }
      default:
        out.push('unknown op');
    }
  } catch (e) {
    out.push(error(e));
  }
  return out;
}

async function handle(cmd) {
  switch (cmd.cmd) {
    case 'open': return open(cmd.id, cmd.startup);
    case 'run': return run(cmd.id, cmd.op);
    case 'probe': return run(cmd.id, { kind: 'simple', sql: cmd.sql });
    case 'status': return ['?'];
    case 'close': {
      const c = conns.get(cmd.id);
      conns.delete(cmd.id);
      if (c) await c.end().catch(() => {});
      return [];
    }
    default: return ['unknown command'];
  }
}

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(() => handle(JSON.parse(line))).then((answer) => {
    process.stdout.write(JSON.stringify(answer) + '\n');
  });
});
rl.on('close', () => chain.then(() => process.exit(0)));
