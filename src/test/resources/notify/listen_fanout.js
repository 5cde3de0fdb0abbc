// node-postgres (pg 8), default settings: CLIENTS clients through pgferry each LISTEN on one of CHANNELS channels
// and take client.on('notification'); ROUNDS rounds of one NOTIFY per channel follow, sent in turn by two other
// clients through pgferry (NOTIFY in a transaction; pg_notify with parameters) and by a direct connection. Each
// listener must get exactly its channel's notifications, in order, with the payload and the sender's pid.
// Prints "ok N clients, M notifications" or what differed.
// Arguments: pgferry host, port, direct host, port, user, password, database, channel prefix, clients, channels, rounds.
const { Client } = require('pg');
const [host, port, dhost, dport, user, password, database, prefix] = process.argv.slice(2, 10);
const [clients, channels, rounds] = process.argv.slice(10, 13).map(Number);

async function connect(h, p, app) {
  const c = new Client({ host: h, port: Number(p), user, password, database, application_name: app });
  await c.connect();
  return c;
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

(async () => {
  const listeners = [];
  const got = [];
  for (let i = 0; i < clients; i++) {
    const c = await connect(host, port);
    got.push([]);
    c.on('notification', n => got[i].push([n.channel, n.payload, n.processId]));
    await c.query(`LISTEN ${prefix}${i % channels}`);
    listeners.push(c);
  }
  console.log('listening');
  const a = await connect(host, port), b = await connect(host, port);
  const direct = await connect(dhost, dport, 'notify direct');
  const expected = Array.from({ length: channels }, () => []);
  for (let k = 0; k < rounds; k++) {
    const payload = ch => `round ${k} ch ${ch} ‘quoted’ é`;
    const sender = k % 3;
    let pid;
    if (sender === 2) {
      pid = direct.processID;
      for (let ch = 0; ch < channels; ch++) await direct.query('select pg_notify($1, $2)', [prefix + ch, payload(ch)]);
    } else {
      const c = sender === 0 ? a : b;
      await c.query('BEGIN');
      pid = (await c.query('select pg_backend_pid() as pid')).rows[0].pid;
      for (let ch = 0; ch < channels; ch++) {
        if (sender === 0) await c.query(`NOTIFY ${prefix}${ch}, '${payload(ch).replace(/'/g, "''")}'`);
        else await c.query('select pg_notify($1, $2)', [prefix + ch, payload(ch)]);
      }
      await c.query('COMMIT');
    }
    for (let ch = 0; ch < channels; ch++) expected[ch].push([prefix + ch, payload(ch), pid]);
  }
  const deadline = Date.now() + 60000;
  while (got.some(g => g.length < rounds) && Date.now() < deadline) await sleep(50);
  await sleep(500);
  for (const c of listeners) await c.query('select 1'); // reads anything that came after the last expected one
  const failures = [];
  let total = 0;
  got.forEach((g, i) => {
    total += g.length;
    const want = expected[i % channels];
    if (JSON.stringify(g) !== JSON.stringify(want)) {
      failures.push(`client ${i}: got ${JSON.stringify(g)} expected ${JSON.stringify(want)}`);
    }
  });
  for (const c of [a, b, direct, ...listeners]) await c.end();
  console.log(failures.length ? `${failures.length} clients differ; first: ${failures.slice(0, 3).join('\n')}`
    : `ok ${clients} clients, ${total} notifications`);
  process.exit(0);
})().catch(e => { console.log('failed ' + e.stack); process.exit(1); });
